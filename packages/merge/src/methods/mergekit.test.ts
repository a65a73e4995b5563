import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import type { MethodContext, MethodOptions, TensorToMerge } from './spec.js';
import { mergekitLinearSpec } from './mergekit-linear.js';
import { mergekitDareLinear, mergekitTies, parseDensities } from './mergekit-task-arithmetic.js';

const f = (a: number[]): Float32Array => Float32Array.from(a);

/** a context over one tensor "t": base [1, 1, 1, 1], deltas [1, -2, 0.5, 0] and [-1, 1, 0, 3] */
function ctx(lambdas: number[], options: MethodOptions): MethodContext {
  return {
    models: 2,
    lambdas,
    options,
    tensors: ['t'],
    maskFishers: [],
    fisherFiles: [],
    gramFiles: [],
    thetas: () => Promise.resolve([f([2, -1, 1.5, 1]), f([0, 2, 1, 4])]),
    base: () => Promise.resolve(f([1, 1, 1, 1])),
    fullFishers: () => Promise.resolve([]),
    rowBlocks: () => [{ start: 0, end: 4 }],
    progress: () => undefined,
    warn: () => undefined,
  };
}
const tensor = { name: 't', shape: [4] } as unknown as TensorToMerge;

describe('the mergekit method specs', () => {
  it('densities: one for all or one per model', () => {
    expect(parseDensities('0.5', 3)).toEqual([0.5, 0.5, 0.5]);
    expect(parseDensities('0.5, 0.25', 2)).toEqual([0.5, 0.25]);
    expect(() => parseDensities('0.5,0.2', 3)).toThrow(FmnError);
    expect(() => parseDensities('x', 2)).toThrow(/density/);
  });

  it("mergekit-ties: mergekit's defaults (normalize on, rescale off), per-model densities, weights as lambdas", async () => {
    const o = { densities: '0.5,0.5', normalize: true, rescale: false, lambda: 1 };
    const c = ctx([1, 1], o);
    const state = await mergekitTies.prepare!(c);
    const r = await mergekitTies.mergeTensor(c, tensor, state);
    // trimmed [1, -2, 0, 0] and [-1, 0, 0, 3]; sums 0 (+), -2, 0, 3
    expect([...r.merged]).toEqual([2, -1, 1, 4]);
    expect(mergekitTies.options.find((x) => x.key === 'normalize')?.default).toBe(true);
    expect(mergekitTies.options.find((x) => x.key === 'rescale')?.default).toBe(false);
    expect(mergekitTies.report(c, state)).toMatchObject({
      mergekit: { method: 'ties', densities: [0.5, 0.5] },
    });
  });

  it('mergekit-dare-linear: rescale on by default, seeded drop', async () => {
    expect(mergekitDareLinear.options.find((x) => x.key === 'rescale')?.default).toBe(true);
    const o = { densities: '1', normalize: false, rescale: true, lambda: 2, seed: 0 };
    const c = ctx([1, 0.5], o);
    const r = await mergekitDareLinear.mergeTensor(c, tensor, await mergekitDareLinear.prepare!(c));
    // density 1 keeps all: base + 2 * (d1 + 0.5 d2)
    expect([...r.merged]).toEqual([1 + 2 * 0.5, 1 + 2 * -1.5, 1 + 2 * 0.5, 1 + 2 * 1.5]);
  });

  it('mergekit-linear: weighted sum, normalized unless told otherwise', async () => {
    const c = ctx([3, 1], { normalize: true });
    const r = await mergekitLinearSpec.mergeTensor(c, tensor, undefined);
    expect([...r.merged]).toEqual([1.5, -0.25, 1.375, 1.75]);
    const s = await mergekitLinearSpec.mergeTensor(ctx([3, 1], { normalize: false }), tensor, undefined);
    expect([...s.merged]).toEqual([6, -1, 5.5, 7]);
  });
});
