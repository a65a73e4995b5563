import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('@fmn/onnx needs no ONNX runtime', () => {
  it('depends on @fmn/core and protobufjs only (onnxruntime-node is a dev dependency, for the tests)', async () => {
    const pkg = JSON.parse(await readFile(join(here, '..', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(['@fmn/core', 'protobufjs']);
    expect(pkg.peerDependencies).toBeUndefined();
    expect(pkg.optionalDependencies).toBeUndefined();
  });

  it('no source file (tests aside) imports a runtime', async () => {
    const sources = (await readdir(here)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('export.ts');
    for (const f of sources) {
      const text = await readFile(join(here, f), 'utf8');
      const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        expect(spec, `${f} imports ${spec}`).toMatch(/^(\.\/|node:|@fmn\/core$|protobufjs$)/);
      }
    }
  });
});
