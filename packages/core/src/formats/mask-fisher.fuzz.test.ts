/**
 * Fuzz property: any byte mutation of a mask Fisher file reads to a valid mask Fisher or fails
 * with an FmnError naming the file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyByteMutations, byteMutations, expectCleanOutcome, runProperty } from '@fmn/fuzz';
import { tempDir } from '../../test/helpers.js';
import { readMaskFisher, writeMaskFisher } from './mask-fisher.js';

describe('fuzz: mask Fisher files', () => {
  it('byte mutations: a valid result or an FmnError naming the file', async () => {
    const dir = await tempDir();
    const validPath = join(dir, 'valid.fisher.safetensors');
    await writeMaskFisher(validPath, {
      layout: { layers: 2, heads: 2, headSize: 4, intermediate: 3 },
      head: Float32Array.from([1, 2, 3, 4]),
      neuron: Float32Array.from([0.5, 0.25, 0, 1, 2, 3]),
      examples: 7,
    });
    const valid = new Uint8Array(await readFile(validPath));
    let k = 0;
    await runProperty(
      'mask Fisher',
      byteMutations(),
      async (muts) => {
        const path = join(dir, `m${k++}.safetensors`);
        await writeFile(path, applyByteMutations(valid, muts));
        await expectCleanOutcome(async () => {
          const f = await readMaskFisher(path);
          // a valid result is consistent with itself
          expect(f.head.length).toBe(f.layout.layers * f.layout.heads);
          expect(f.neuron.length).toBe(f.layout.layers * f.layout.intermediate);
        }, path);
      },
      150,
    );
  });
});
