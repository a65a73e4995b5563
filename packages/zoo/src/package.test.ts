import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { zooPath } from './index.js';

describe('the published @fmn/zoo', () => {
  it('ships the assets and dist only, and depends on no build or training code', async () => {
    const pkg = JSON.parse(await readFile(zooPath('package.json'), 'utf8')) as {
      files: string[];
      dependencies: Record<string, string>;
    };
    expect(pkg.files.filter((f) => !f.startsWith('!')).sort()).toEqual([
      'data',
      'dist',
      'models',
      'tokenizers',
    ]);
    // the pipeline (WordNet, AFINN, tfjs training, the adapters) lives in @fmn/zoo-build
    expect(Object.keys(pkg.dependencies)).toEqual(['@fmn/core']);
  });
});
