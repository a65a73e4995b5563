import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { mergekitLinear, mergekitMix } from './mergekit-consensus.js';

const f = (a: number[]): Float32Array => Float32Array.from(a);
const d1 = f([1, -2, 0, 3]);
const d2 = f([-1, 1, 0.5, -3]);

describe("mergekit's sign consensus and mix", () => {
  it('elects + on a zero sum and averages the agreeing deltas (equal weights)', () => {
    // sums: 0 (+), -1 (-), 0.5 (+), 0 (+); agreeing: d1, d1, d2, d1; one agreeing model each
    expect([...mergekitMix([d1, d2], [1, 1], { consensus: true, normalize: true })]).toEqual([1, -2, 0.5, 3]);
    expect([...mergekitMix([d1, d2], [1, 1], { consensus: true, normalize: false })]).toEqual([
      1, -2, 0.5, 3,
    ]);
  });

  it('weights scale the deltas; normalize divides by the agreeing weights; lambda scales', () => {
    // weighted: [2, -4, 0, 6] and [-1, 1, 0.5, -3]; sums 1, -3, 0.5, 3
    expect([...mergekitMix([d1, d2], [2, 1], { consensus: true, normalize: false })]).toEqual([
      2, -4, 0.5, 6,
    ]);
    expect([...mergekitMix([d1, d2], [2, 1], { consensus: true, normalize: true })]).toEqual([1, -2, 0.5, 3]);
    expect([...mergekitMix([d1, d2], [2, 1], { consensus: true, normalize: true, lambda: 0.5 })]).toEqual([
      0.5, -1, 0.25, 1.5,
    ]);
    // both agree on entry 0: (2 + 4) / (2 + 1)
    expect([...mergekitMix([f([1]), f([4])], [2, 1], { consensus: true, normalize: true })]).toEqual([2]);
  });

  it('a zero entry never agrees; a zero divisor becomes 1', () => {
    expect([...mergekitMix([f([0]), f([0])], [1, 1], { consensus: true, normalize: true })]).toEqual([0]);
    // weights 1 and -1 with both weighted deltas +1: divisor 1 + (-1) = 0 -> 1, mix 2
    expect([...mergekitMix([f([1]), f([-1])], [1, -1], { consensus: true, normalize: true })]).toEqual([2]);
  });

  it('without consensus: the weighted sum over the weights sum (guarded below 1e-8)', () => {
    expect([...mergekitMix([d1, d2], [2, 1], { consensus: false, normalize: false })]).toEqual([
      1, -3, 0.5, 3,
    ]);
    const n = mergekitMix([d1, d2], [2, 1], { consensus: false, normalize: true });
    [1 / 3, -1, 0.5 / 3, 1].forEach((v, i) => expect(n[i]).toBeCloseTo(v, 7));
    expect([...mergekitMix([d1, d2], [1, -1], { consensus: false, normalize: true })]).toEqual([
      2, -3, -0.5, 6,
    ]);
  });

  it('contributions: |each model term| in the result', () => {
    const c = new Float64Array(2);
    mergekitMix([d1, d2], [2, 1], { consensus: true, normalize: true }, c);
    // model 1 terms: 2/2, -4/2, -, 6/2 -> 1 + 2 + 3; model 2: 0.5/1
    expect([...c]).toEqual([6, 0.5]);
  });
});

describe("mergekit's linear", () => {
  it('weighted sum, normalized by default', () => {
    expect([...mergekitLinear([f([1, 2]), f([3, 6])], [1, 3], true)]).toEqual([2.5, 5]);
    expect([...mergekitLinear([f([1, 2]), f([3, 6])], [1, 3], false)]).toEqual([10, 20]);
    expect(() => mergekitLinear([f([1]), f([3])], [1, -1], true)).toThrow(FmnError);
  });
});
