/** What core asks the registered adapters: their tokenizer files, their base-model prefix, their names. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ArchitectureAdapter } from './adapter.js';
import { isFmnError } from './errors.js';

// The registry is module state: every test gets fresh modules.
let adapter: typeof import('./adapter.js');
let checkpoint: typeof import('./checkpoint.js');
beforeEach(async () => {
  vi.resetModules();
  adapter = await import('./adapter.js');
  checkpoint = await import('./checkpoint.js');
});

function fake(modelType: string, extra: Partial<ArchitectureAdapter> = {}): ArchitectureAdapter {
  const no = () => {
    throw new Error('unused');
  };
  return {
    modelType,
    detect: () => false,
    maskLayout: no,
    load: no,
    toTensors: no,
    role: no,
    isTaskHead: no,
    ...extra,
  };
}

const conventions = (files: string[]) => ({
  template: 'bert' as const,
  specialTokens: { cls: 'c', sep: 's', pad: 'p', unk: 'u', mask: 'm' },
  files,
  usesTokenTypes: () => false,
});

describe('architecture knowledge from the registry', () => {
  it("tokenizer files: the generic ones (sentencepiece.bpe.model among them) and the adapters' own", async () => {
    expect(checkpoint.tokenizerFileNames()).toContain('sentencepiece.bpe.model');
    expect(checkpoint.tokenizerFileNames()).not.toContain('spiece.model');
    adapter.registerAdapter(fake('albertish', { tokenizer: conventions(['spiece.model', 'vocab.txt']) }));
    const names = checkpoint.tokenizerFileNames();
    expect(names).toContain('spiece.model');
    expect(names.filter((n) => n === 'vocab.txt')).toHaveLength(1);

    const dir = await mkdtemp(join(tmpdir(), 'fmn-tokfiles-'));
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'albertish' }));
      await writeFile(join(dir, 'model.safetensors'), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]));
      for (const f of ['spiece.model', 'sentencepiece.bpe.model', 'tokenizer_config.json', 'notes.txt'])
        await writeFile(join(dir, f), 'x');
      const ck = await checkpoint.Checkpoint.open(dir);
      try {
        expect((await ck.tokenizerFiles()).sort()).toEqual([
          'sentencepiece.bpe.model',
          'spiece.model',
          'tokenizer_config.json',
        ]);
      } finally {
        await ck.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("base-model prefix: the adapter's, or an error naming the problem", () => {
    adapter.registerAdapter(fake('withprefix', { prefix: 'wp.' }));
    adapter.registerAdapter(fake('noprefix'));
    expect(adapter.basePrefixOf({ model_type: 'withprefix' })).toBe('wp.');
    expect(() => adapter.basePrefixOf({ model_type: 'noprefix' }, 'm/config.json')).toThrow(
      'm/config.json: the noprefix adapter does not declare its base-model name prefix',
    );
    expect(() => adapter.basePrefixOf({ model_type: 'gpt2' })).toThrow(/unsupported model_type "gpt2"/);
  });

  it('a model type is a string checked against the registry', () => {
    adapter.registerAdapter(fake('b'));
    adapter.registerAdapter(fake('a'));
    expect(adapter.listModelTypes()).toEqual(['a', 'b']);
    expect(adapter.requireAdapter('a').modelType).toBe('a');
    try {
      adapter.requireAdapter('c', 'where');
      expect.unreachable();
    } catch (e) {
      expect(isFmnError(e)).toBe(true);
      expect((e as Error).message).toBe('where: unsupported model_type "c" (supported: a, b)');
    }
  });
});
