import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { bernoulliSparsify, magnitudeSparsify, mergekitKeepCount, rescaleL1 } from './mergekit-sparsify.js';
import { SeededRng } from './taskvectors.js';

const f = (a: number[]): Float32Array => Float32Array.from(a);
/** an "rng" that returns the given draws in order */
const draws = (d: number[]): { next(): number } => {
  let i = 0;
  return { next: () => d[i++] };
};

describe("mergekit's magnitude sparsification (per tensor, exactly int(density * numel) kept)", () => {
  it('keeps the k largest magnitudes; equal magnitudes: the lower index is kept', () => {
    // k = int(0.4 * 5) = 2: |-3| and then one of |2|, |-2| -> index 2 (the lower)
    expect([...magnitudeSparsify(f([0.5, -3, 2, -2, 1]), 0.4)]).toEqual([0, -3, 2, 0, 0]);
    // k = int(0.5 * 5) = 2 (truncated, not rounded)
    expect([...magnitudeSparsify(f([0.5, -3, 2, -2, 1]), 0.5)]).toEqual([0, -3, 2, 0, 0]);
    // all equal: exactly k kept, from the front
    expect([...magnitudeSparsify(f([1, -1, 1, -1]), 0.5)]).toEqual([1, -1, 0, 0]);
    // unlike the papers' TIES, entries equal to the threshold beyond k are dropped
    expect([...magnitudeSparsify(f([2, 2, 2, 1, 0]), 0.4)]).toEqual([2, 2, 0, 0, 0]);
  });

  it('works in place when out is the input', () => {
    const tau = f([0.5, -3, 2, -2, 1]);
    const out = magnitudeSparsify(tau, 0.4, { rescale: true, out: tau });
    expect(out).toBe(tau);
    expect([...out]).toEqual([0, Math.fround(-3 * (8.5 / 5)), Math.fround(2 * (8.5 / 5)), 0, 0]);
    const d = f([1, 2, 3, -4]);
    expect(bernoulliSparsify(d, 0.5, draws([0.1, 0.6, 0.5, 0.49]), { rescale: true, out: d })).toBe(d);
    expect([...d]).toEqual([2, 0, 0, -8]);
  });

  it('density >= 1 leaves the tensor as it is (no rescale either)', () => {
    expect([...magnitudeSparsify(f([0.5, -3, 2]), 1, { rescale: true })]).toEqual([0.5, -3, 2]);
    expect([...magnitudeSparsify(f([0.5, -3, 2]), 1.5)]).toEqual([0.5, -3, 2]);
  });

  it('a density that keeps nothing is an error naming the tensor', () => {
    expect(() => magnitudeSparsify(f([1, 2, 3, 4, 5]), 0.1, { tensor: 'x.bias' })).toThrow(FmnError);
    expect(() => magnitudeSparsify(f([1, 2, 3, 4, 5]), 0.1, { tensor: 'x.bias' })).toThrow(/x\.bias/);
    expect(() => magnitudeSparsify(f([1, 2]), -0.5)).toThrow(/density/);
  });

  it('keep count is int(density * n)', () => {
    expect(mergekitKeepCount(7, 0.29)).toBe(2); // 2.03
    expect(mergekitKeepCount(10, 0.7)).toBe(7); // 7.000000000000001
    expect(mergekitKeepCount(3, 0.999)).toBe(2);
  });

  it('rescale matches the L1 norm of the tensor before the trim', () => {
    // |.|_1 before = 8.5, after = 5: x 1.7
    const out = magnitudeSparsify(f([0.5, -3, 2, -2, 1]), 0.4, { rescale: true });
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(-5.1, 6);
    expect(out[2]).toBeCloseTo(3.4, 6);
    expect(out[3]).toBe(0);
  });

  it('rescale is skipped when a norm is below 1e-7', () => {
    expect([...rescaleL1(1e-9, f([1e-9, 0]))]).toEqual([Math.fround(1e-9), 0]);
    expect([...rescaleL1(1, f([0, 0]))]).toEqual([0, 0]);
    expect([...rescaleL1(6, f([1, -2]))]).toEqual([2, -4]);
  });
});

describe("mergekit's DARE (Bernoulli keep with probability density, L1 rescale)", () => {
  it('keeps an entry when its draw is below density', () => {
    const tau = f([1, 2, 3, -4]);
    expect([...bernoulliSparsify(tau, 0.5, draws([0.1, 0.6, 0.5, 0.49]))]).toEqual([1, 0, 0, -4]);
    // rescale: L1 10 before, 5 after -> x 2 (not 1 / density)
    expect([...bernoulliSparsify(tau, 0.5, draws([0.1, 0.6, 0.5, 0.49]), { rescale: true })]).toEqual([
      2, 0, 0, -8,
    ]);
    // 1/density would give x 2 here too: a case where they differ (keep 3 of 4 at density 0.5)
    expect([...bernoulliSparsify(tau, 0.5, draws([0.1, 0.2, 0.3, 0.9]), { rescale: true })]).toEqual([
      Math.fround(10 / 6),
      Math.fround(20 / 6),
      Math.fround(30 / 6),
      0,
    ]);
    // the input is not modified
    expect([...tau]).toEqual([1, 2, 3, -4]);
  });

  it('density >= 1 keeps everything without drawing; density 0 drops everything', () => {
    const rng = draws([]);
    expect([...bernoulliSparsify(f([1, 2]), 1, rng, { rescale: true })]).toEqual([1, 2]);
    expect([...bernoulliSparsify(f([1, 2]), 0, new SeededRng(1), { rescale: true })]).toEqual([0, 0]);
  });

  it('keeps about a density fraction of the entries with the seeded RNG', () => {
    const tau = new Float32Array(20000).fill(1);
    const out = bernoulliSparsify(tau, 0.3, new SeededRng(7));
    const kept = out.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0) / tau.length;
    // binomial sd = sqrt(0.3 * 0.7 / 20000) = 0.0032: 5 sd
    expect(Math.abs(kept - 0.3)).toBeLessThan(0.016);
  });
});
