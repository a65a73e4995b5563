import { describe, expect, it } from 'vitest';
import { MERGEKIT_VARIANTS, mergekitTaskArithmetic } from './mergekit-gta.js';

const f = (a: number[]): Float32Array => Float32Array.from(a);
const base = f([1, 1, 1, 1]);
// deltas: [1, -2, 0.5, 0] and [-1, 1, 0, 3]
const thetas = (): Float32Array[] => [f([2, -1, 1.5, 1]), f([0, 2, 1, 4])];
const common = { normalize: true, rescale: false, lambda: 1 };

describe("mergekit's generalized task arithmetic on one tensor", () => {
  it('ties: per-tensor magnitude trim, sum consensus, normalize by agreeing weights', () => {
    // trimmed (k = 2): [1, -2, 0, 0] and [-1, 0, 0, 3] (of the equal |1|s the lower index stays)
    // sums 0 (+), -2, 0 (+, nobody agrees -> 0), 3
    const r = mergekitTaskArithmetic(MERGEKIT_VARIANTS.ties, thetas(), base, {
      ...common,
      weights: [1, 1],
      densities: [0.5, 0.5],
    });
    expect([...r.merged]).toEqual([2, -1, 1, 4]);
    expect([...r.shares]).toEqual([3, 3]);
    // weights 2, 1 without normalize, lambda 0.5: weighted [2, -4, 0, 0], [-1, 0, 0, 3]
    const s = mergekitTaskArithmetic(MERGEKIT_VARIANTS.ties, thetas(), base, {
      normalize: false,
      rescale: false,
      lambda: 0.5,
      weights: [2, 1],
      densities: [0.5, 0.5],
    });
    expect([...s.merged]).toEqual([2, -1, 1, 2.5]);
  });

  it('task_arithmetic: base + lambda * sum_j w_j delta_j (density unused)', () => {
    const r = mergekitTaskArithmetic(MERGEKIT_VARIANTS.task_arithmetic, thetas(), base, {
      ...common,
      normalize: false,
      weights: [1, 1],
      densities: [0.1, 0.1],
    });
    expect([...r.merged]).toEqual([1, 0, 1.5, 4]);
  });

  it('dare_linear: Bernoulli keep with L1 rescale, then the weighted sum', () => {
    const draws = [
      [0.1, 0.9, 0.1, 0.1],
      [0.9, 0.1, 0.1, 0.1],
    ];
    const rng = (j: number) => {
      let i = 0;
      return { next: () => draws[j][i++] };
    };
    const r = mergekitTaskArithmetic(MERGEKIT_VARIANTS.dare_linear, thetas(), base, {
      normalize: false,
      rescale: true,
      lambda: 1,
      weights: [1, 1],
      densities: [0.5, 0.5],
      rng,
    });
    // kept [1, 0, 0.5, 0] x 3.5/1.5 and [0, 1, 0, 3] x 5/4
    const want = [1 + 7 / 3, 1 + 1.25, 1 + 7 / 6, 1 + 3.75];
    want.forEach((v, i) => expect(r.merged[i]).toBeCloseTo(v, 6));
  });
});
