import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import type { Batch, ModelSession } from './backend.js';
import { computeGrams, type GramTarget } from './gram.js';
import { GRAM_FORMAT, readGramFile, writeGramFile } from './gram-file.js';
import { writeSafetensors } from './safetensors.js';
import { fromFloat32 } from './tensor.js';

const batch = (size: number): Batch => ({
  size,
  seqLen: 1,
  inputIds: new Int32Array(size),
  attentionMask: new Int32Array(size).fill(1),
});

const targets: GramTarget[] = [
  { name: 'q.weight', inDim: 2, over: 'tokens' },
  { name: 'k.weight', inDim: 2, over: 'tokens' },
  { name: 'o.weight', inDim: 1, over: 'tokens' },
];

function session(perBatch: Record<string, Float32Array>[]): ModelSession {
  let k = 0;
  return {
    layout: { layers: 1, heads: 1, headSize: 1, intermediate: 1 },
    logits: () => Promise.reject(new Error('unused')),
    loss: () => Promise.reject(new Error('unused')),
    maskGradients: () => Promise.reject(new Error('unused')),
    linearInputGrams: () => Promise.resolve(new Map(Object.entries(perBatch[k++]))),
    dispose: () => undefined,
  };
}

describe('computeGrams', () => {
  it('sums per-batch Grams by name; an array shared by two names is added once', async () => {
    const shared1 = Float32Array.of(1, 2, 2, 4);
    const shared2 = Float32Array.of(9, 0, 0, 1);
    const s = session([
      { 'q.weight': shared1, 'k.weight': shared1, 'o.weight': Float32Array.of(3) },
      { 'q.weight': shared2, 'k.weight': shared2, 'o.weight': Float32Array.of(0.5) },
    ]);
    const { grams, examples } = await computeGrams(s, targets, [batch(2), batch(1)]);
    expect(examples).toBe(3);
    expect([...grams.get('q.weight')!]).toEqual([10, 2, 2, 5]);
    expect([...grams.get('k.weight')!]).toEqual([10, 2, 2, 5]);
    expect([...grams.get('o.weight')!]).toEqual([3.5]);
  });

  it('distinct arrays for two names are each added', async () => {
    const s = session([
      {
        'q.weight': Float32Array.of(1, 0, 0, 1),
        'k.weight': Float32Array.of(2, 0, 0, 2),
        'o.weight': Float32Array.of(1),
      },
    ]);
    const { grams } = await computeGrams(s, targets, [batch(1)]);
    expect([...grams.get('k.weight')!]).toEqual([2, 0, 0, 2]);
    expect([...grams.get('q.weight')!]).toEqual([1, 0, 0, 1]);
  });

  it('refuses a backend without Grams, a missing or misshapen Gram, and no examples', async () => {
    const none = { ...session([]), linearInputGrams: undefined };
    await expect(computeGrams(none, targets, [batch(1)])).rejects.toThrow(
      'this backend does not compute Gram matrices',
    );
    const short = session([{ 'q.weight': Float32Array.of(1), 'k.weight': Float32Array.of(1, 0, 0, 1) }]);
    await expect(computeGrams(short, targets, [batch(1)])).rejects.toThrow(
      'backend returned 1 values for "q.weight" in batch 1, expected 2x2',
    );
    await expect(computeGrams(session([]), targets, [])).rejects.toThrow('no examples');
  });
});

describe('Gram files', () => {
  it('round-trip with their shapes and metadata', async () => {
    const dir = await tempDir();
    const path = join(dir, 'g.safetensors');
    const grams = new Map([
      ['a.weight', Float32Array.of(1, 2, 2, 5)],
      ['b.weight', Float32Array.of(7)],
    ]);
    await writeGramFile(path, grams, 12, { model: 'm', format: 'ignored' });
    const r = await readGramFile(path);
    expect(r.metadata.format).toBe(GRAM_FORMAT);
    expect(r.metadata.examples).toBe('12');
    expect(r.metadata.model).toBe('m');
    expect([...r.grams.get('a.weight')!]).toEqual([1, 2, 2, 5]);
    expect([...r.grams.get('b.weight')!]).toEqual([7]);
  });

  it('refuses other files, non-square tensors and negative diagonals', async () => {
    const dir = await tempDir();
    const write = async (name: string, shape: number[], values: number[], format = GRAM_FORMAT) => {
      const p = join(dir, name);
      await writeSafetensors(
        p,
        [{ name: 'w', dtype: 'F32', shape, data: fromFloat32(Float32Array.from(values), 'F32') }],
        { format },
      );
      return p;
    };
    await expect(readGramFile(await write('a', [1], [1], 'fmn-mask-fisher'))).rejects.toThrow(
      'not a Gram file written by fmn (metadata "format" is "fmn-mask-fisher")',
    );
    await expect(readGramFile(await write('b', [1, 2], [1, 2]))).rejects.toThrow(
      'must be square, got [1, 2]',
    );
    await expect(readGramFile(await write('c', [2, 2], [1, 0, 0, -1]))).rejects.toThrow(
      'negative diagonal entry at 1',
    );
  });
});
