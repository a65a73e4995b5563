import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../test/helpers.js';
import type { Batch, FisherConvention, MaskGradients, ModelSession } from './backend.js';
import type { MaskLayout } from './encoder.js';
import {
  assertFiniteFisher,
  computeFullFisher,
  computeMaskFisher,
  readMaskFisher,
  writeMaskFisher,
  type MaskFisher,
} from './fisher.js';
import { writeSafetensors } from './safetensors.js';

const LAYOUT: MaskLayout = { layers: 2, heads: 2, headSize: 4, intermediate: 3 };

function batch(size: number): Batch {
  return { size, seqLen: 1, inputIds: new Int32Array(size), attentionMask: new Int32Array(size).fill(1) };
}

/** A fake session returning scripted gradients, batch after batch, and recording the calls. */
function fakeSession(grads: { head: number[]; neuron: number[]; loss?: number; weights?: number[] }[]) {
  const calls: { size: number; convention: FisherConvention }[] = [];
  let k = 0;
  const session: ModelSession = {
    layout: LAYOUT,
    logits: () => Promise.reject(new Error('unused')),
    loss: () => Promise.reject(new Error('unused')),
    maskGradients: (b: Batch, { convention }): Promise<MaskGradients> => {
      calls.push({ size: b.size, convention });
      const g = grads[k++];
      return Promise.resolve({
        loss: g.loss ?? 0.5,
        head: Float32Array.from(g.head),
        neuron: Float32Array.from(g.neuron),
        ...(g.weights && { weights: Float32Array.from(g.weights) }),
      });
    },
    dispose: () => undefined,
  };
  return { session, calls };
}

describe('computeMaskFisher', () => {
  it('`batch` convention: sum over batches of the squared batch gradient', async () => {
    const { session, calls } = fakeSession([
      { head: [1, -2, 0.5, 0], neuron: [1, 2, 3, -1, 0, 0.25], loss: 0.7 },
      { head: [3, 1, -1, 2], neuron: [0, -2, 1, 1, 4, 0.5], loss: 0.4 },
    ]);
    const seen: unknown[] = [];
    const f = await computeMaskFisher(session, [batch(2), batch(3)], 'batch', {
      onBatch: (i) => seen.push(i),
    });
    // hand-computed: 1+9, 4+1, 0.25+1, 0+4 | 1+0, 4+4, 9+1, 1+1, 0+16, 0.0625+0.25
    expect([...f.head]).toEqual([10, 5, 1.25, 4]);
    expect([...f.neuron]).toEqual([1, 8, 10, 2, 16, 0.3125]);
    expect(f.examples).toBe(5);
    expect(f.layout).toEqual(LAYOUT);
    expect(calls).toEqual([
      { size: 2, convention: 'batch' },
      { size: 3, convention: 'batch' },
    ]);
    expect(seen).toEqual([
      { batches: 1, examples: 2, loss: 0.7 },
      { batches: 2, examples: 5, loss: 0.4 },
    ]);
  });

  it("`example` convention: sum over examples of each example's own squared gradient", async () => {
    const { session, calls } = fakeSession([
      {
        // 2 examples x [L*H]
        head: [1, 2, 3, 4, /* ex 2 */ 0.5, 0, -1, 2],
        neuron: [1, 0, 0, 0, 0, 2, /* ex 2 */ 0, 3, 0, 0, -1, 0],
      },
      {
        head: [2, 0, 0, 0],
        neuron: [0, 0, 0, 1, 1, 1],
      },
    ]);
    const f = await computeMaskFisher(session, [batch(2), batch(1)], 'example');
    // head: 1+0.25+4, 4+0+0, 9+1+0, 16+4+0
    expect([...f.head]).toEqual([5.25, 4, 10, 20]);
    // neuron: 1, 9, 0, 0+0+1, 0+1+1, 4+0+1
    expect([...f.neuron]).toEqual([1, 9, 0, 1, 2, 5]);
    expect(f.examples).toBe(3);
    expect(calls.map((c) => c.convention)).toEqual(['example', 'example']);
  });

  it('`model` convention: each row squared and weighted by its probability', async () => {
    const { session, calls } = fakeSession([
      {
        // 2 classes x 1 example: rows (c0, x0), (c1, x0)
        head: [1, 2, 0, 0, /* c1 */ 2, 0, 1, 0],
        neuron: [1, 0, 0, 0, 0, 0, /* c1 */ 0, 0, 0, 0, 0, 4],
        weights: [0.75, 0.25],
      },
    ]);
    const f = await computeMaskFisher(session, [batch(1)], 'model');
    // head: 0.75*1 + 0.25*4, 0.75*4, 0.25*1, 0 | neuron: 0.75, 0, ..., 0.25*16
    expect([...f.head]).toEqual([1.75, 3, 0.25, 0]);
    expect([...f.neuron]).toEqual([0.75, 0, 0, 0, 0, 4]);
    expect(calls).toEqual([{ size: 1, convention: 'model' }]);
  });

  it('`model` convention: missing or non-probability weights are a backend error', async () => {
    const missing = fakeSession([{ head: [0, 0, 0, 0], neuron: [0, 0, 0, 0, 0, 0] }]);
    await expect(computeMaskFisher(missing.session, [batch(1)], 'model')).rejects.toThrow(
      'backend returned no row weights for the model convention on 1 examples',
    );
    const bad = fakeSession([{ head: [0, 0, 0, 0], neuron: [0, 0, 0, 0, 0, 0], weights: [1.5] }]);
    await expect(computeMaskFisher(bad.session, [batch(1)], 'model')).rejects.toThrow(
      'backend returned row weight 1.5 (a probability) at row 0',
    );
  });

  it('accumulates in float64: many small squares are not lost against a large one', async () => {
    const n = 1000;
    const grads = [{ head: [4096, 0, 0, 0], neuron: [0, 0, 0, 0, 0, 0] }];
    for (let i = 0; i < n; i++) grads.push({ head: [0.5, 0, 0, 0], neuron: [0, 0, 0, 0, 0, 0] });
    const { session } = fakeSession(grads);
    const f = await computeMaskFisher(
      session,
      Array.from({ length: n + 1 }, () => batch(1)),
      'batch',
    );
    // 4096^2 + 1000 * 0.25 = 16777466, exactly representable in float32 (even, below 2^25)
    // whereas float32 accumulation would lose every 0.25 against 2^24
    expect(f.head[0]).toBe(16777466);
  });

  it('reads batches from an async iterable', async () => {
    const { session } = fakeSession([{ head: [1, 1, 1, 1], neuron: [1, 1, 1, 1, 1, 1] }]);
    async function* source() {
      yield batch(4);
    }
    const f = await computeMaskFisher(session, source(), 'batch');
    expect([...f.head]).toEqual([1, 1, 1, 1]);
    expect(f.examples).toBe(4);
  });

  it('an empty batch source is a clear error', async () => {
    const { session } = fakeSession([]);
    await expect(computeMaskFisher(session, [], 'batch')).rejects.toThrow(
      /no examples: the Fisher needs at least one/,
    );
  });

  it('gradients of the wrong size are rejected', async () => {
    const { session } = fakeSession([{ head: [1, 2, 3, 4], neuron: [1, 2, 3, 4, 5, 6] }]);
    // `example` with 2 examples needs 8 / 12 values
    await expect(computeMaskFisher(session, [batch(2)], 'example')).rejects.toThrow(
      /sizes 4\/6, expected 8\/12/,
    );
  });

  it.each([NaN, Infinity, -Infinity])('a %d gradient is rejected, naming the batch', async (bad) => {
    const { session } = fakeSession([
      { head: [1, 1, 1, 1], neuron: [1, 1, 1, 1, 1, 1] },
      { head: [1, 1, 1, 1], neuron: [1, 1, bad, 1, 1, 1] },
    ]);
    await expect(computeMaskFisher(session, [batch(1), batch(1)], 'batch')).rejects.toThrow(
      new RegExp(`non-finite neuron mask gradient \\(${bad}\\) at index 2 of batch 2`),
    );
  });

  it('a sum that overflows float32 is rejected as infinite', async () => {
    const { session } = fakeSession([{ head: [1e20, 0, 0, 0], neuron: [0, 0, 0, 0, 0, 0] }]);
    await expect(computeMaskFisher(session, [batch(1)], 'batch')).rejects.toThrow(
      /computed mask Fisher: Fisher tensor "head" has an infinite value at index 0/,
    );
  });
});

describe('assertFiniteFisher', () => {
  const ok = { head: Float32Array.from([0, 1]), neuron: Float32Array.from([2]) };
  it('accepts zeros and positives, rejects NaN, infinite and negative values with their place', () => {
    expect(() => assertFiniteFisher(ok, 'f')).not.toThrow();
    expect(() => assertFiniteFisher({ ...ok, neuron: Float32Array.from([NaN]) }, 'f.st')).toThrow(
      'f.st: Fisher tensor "neuron" has NaN at index 0',
    );
    expect(() => assertFiniteFisher({ ...ok, head: Float32Array.from([0, Infinity]) }, 'f.st')).toThrow(
      'f.st: Fisher tensor "head" has an infinite value at index 1',
    );
    expect(() => assertFiniteFisher({ ...ok, head: Float32Array.from([-0.5]) }, 'f.st')).toThrow(
      'f.st: Fisher tensor "head" has a negative value (-0.5) at index 0',
    );
  });
});

describe('writeMaskFisher / readMaskFisher', () => {
  const fisher: MaskFisher = {
    layout: LAYOUT,
    head: Float32Array.from([0.25, 1, 2, 0]),
    neuron: Float32Array.from([1, 2, 3, 4, 5, 6]),
    examples: 128,
  };

  it('round trip with layout, examples and metadata', async () => {
    const dir = await tempDir();
    const path = join(dir, 'fisher.safetensors');
    await writeMaskFisher(path, fisher, { model: 'bert-tiny', convention: 'batch', seed: '0' });
    const back = await readMaskFisher(path);
    expect(back.layout).toEqual(LAYOUT);
    expect([...back.head]).toEqual([0.25, 1, 2, 0]);
    expect([...back.neuron]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.examples).toBe(128);
    expect(back.metadata).toEqual({
      model: 'bert-tiny',
      convention: 'batch',
      seed: '0',
      format: 'fmn-mask-fisher',
      head_size: '4',
      examples: '128',
    });
  });

  it('the layout metadata cannot be overridden by the caller', async () => {
    const dir = await tempDir();
    const path = join(dir, 'fisher.safetensors');
    await writeMaskFisher(path, fisher, { examples: '7', head_size: '99', format: 'other' });
    const back = await readMaskFisher(path);
    expect(back.examples).toBe(128);
    expect(back.layout.headSize).toBe(4);
    expect(back.metadata.format).toBe('fmn-mask-fisher');
  });

  /** A Fisher file written directly (not by writeMaskFisher). */
  async function fisherFile(
    head: number[],
    neuron: number[],
    meta: Record<string, string> = {},
    shapes = { head: [2, 2], neuron: [2, 3] },
  ) {
    const dir = await tempDir();
    const path = join(dir, 'f.safetensors');
    await writeSafetensors(
      path,
      [
        {
          name: 'head',
          dtype: 'F32',
          shape: shapes.head,
          data: new Uint8Array(Float32Array.from(head).buffer),
        },
        {
          name: 'neuron',
          dtype: 'F32',
          shape: shapes.neuron,
          data: new Uint8Array(Float32Array.from(neuron).buffer),
        },
      ],
      meta,
    );
    return path;
  }

  it.each([
    [NaN, /has NaN at index 1/],
    [Infinity, /has an infinite value at index 1/],
    [-1, /has a negative value \(-1\) at index 1/],
  ])('a file with %d is rejected', async (bad, re) => {
    const path = await fisherFile([1, 1, 1, 1], [1, bad, 1, 1, 1, 1]);
    await expectFmnError(readMaskFisher(path), re, path);
  });

  it('missing tensor, wrong rank, layer mismatch and bad metadata are rejected', async () => {
    const dir = await tempDir();
    const path = join(dir, 'g.safetensors');
    await writeSafetensors(path, [{ name: 'head', dtype: 'F32', shape: [1, 1], data: new Uint8Array(4) }]);
    await expectFmnError(readMaskFisher(path), /not a mask Fisher file: no "neuron" tensor/, path);

    const flat = await fisherFile([1, 1, 1, 1], [1, 1, 1, 1, 1, 1], {}, { head: [4], neuron: [2, 3] });
    await expectFmnError(readMaskFisher(flat), /mask Fisher tensor "head" must be 2-D/, flat);

    const mismatch = await fisherFile([1, 1, 1, 1], [1, 1, 1, 1, 1, 1], {}, { head: [2, 2], neuron: [3, 2] });
    await expectFmnError(readMaskFisher(mismatch), /"head" has 2 layers but "neuron" has 3/, mismatch);

    const badMeta = await fisherFile([1, 1, 1, 1], [1, 1, 1, 1, 1, 1], { examples: '12.5' });
    await expectFmnError(
      readMaskFisher(badMeta),
      /metadata "examples" is "12\.5", not a whole number/,
      badMeta,
    );
  });
});

describe('computeFullFisher', () => {
  const conventions: (string | undefined)[] = [];
  function fullSession(perBatch: Record<string, number[]>[] | undefined): ModelSession {
    let k = 0;
    return {
      layout: LAYOUT,
      logits: () => Promise.reject(new Error('unused')),
      loss: () => Promise.reject(new Error('unused')),
      maskGradients: () => Promise.reject(new Error('unused')),
      ...(perBatch && {
        squaredParamGradients: (_b: Batch, o?: { convention?: string }) => {
          conventions.push(o?.convention);
          return Promise.resolve(
            new Map(Object.entries(perBatch[k++]).map(([n, v]) => [n, Float32Array.from(v)])),
          );
        },
      }),
      dispose: () => undefined,
    };
  }

  it('sums the per-batch squared gradients by name', async () => {
    const s = fullSession([
      { 'a.weight': [1, 4], 'a.bias': [0.5] },
      { 'a.weight': [2, 0], 'a.bias': [0.25] },
    ]);
    const { tensors, examples } = await computeFullFisher(s, [batch(1), batch(2)]);
    expect(examples).toBe(3);
    expect(conventions).toEqual(['example', 'example']);
    expect([...tensors.get('a.weight')!]).toEqual([3, 4]);
    expect([...tensors.get('a.bias')!]).toEqual([0.75]);
    // the model convention is passed on to the backend
    conventions.length = 0;
    const m = fullSession([{ 'a.weight': [1, 1], 'a.bias': [1] }]);
    await computeFullFisher(m, [batch(1)], {}, 'model');
    expect(conventions).toEqual(['model']);
  });

  it('rejects a backend without it, an empty source and inconsistent tensors', async () => {
    await expect(computeFullFisher(fullSession(undefined), [batch(1)])).rejects.toThrow(
      /does not compute the full Fisher/,
    );
    await expect(computeFullFisher(fullSession([]), [])).rejects.toThrow(/no examples/);
    await expect(
      computeFullFisher(fullSession([{ a: [1, 2] }, { a: [1] }]), [batch(1), batch(1)]),
    ).rejects.toThrow(/1 values for "a" in batch 2, 2 before/);
    await expect(
      computeFullFisher(fullSession([{ a: [1] }, { b: [1] }]), [batch(1), batch(1)]),
    ).rejects.toThrow(/new squared-gradient tensor "b"/);
  });
});
