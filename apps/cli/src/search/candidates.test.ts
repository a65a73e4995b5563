import { describe, expect, it } from 'vitest';
import { chooseCandidate, dirichletSample, meanScore, searchCandidates, type Scored } from './candidates.js';
import { mulberry32 } from '@fmn/data';

const scored = (c: number[], scores: number[], distance: number): Scored => ({
  coefficients: c,
  scores,
  mean: meanScore(scores),
  distance,
});

describe('searchCandidates (docs/method.md §5.6)', () => {
  it('the scale over 0.1, 0.2, ..., 1.5, with its distance to 1', () => {
    const c = searchCandidates('scale', 3);
    expect(c.map((x) => x.coefficients[0])).toEqual([
      0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5,
    ]);
    expect(c[9].distance).toBe(0);
    expect(c[0].distance).toBeCloseTo(0.9, 12);
  });

  it('two models: lambda_1 over 0, 0.1, ..., 1 and lambda_2 = 1 - lambda_1 (exact decimals)', () => {
    const c = searchCandidates('lambdas', 2);
    expect(c).toHaveLength(11);
    expect(c[0].coefficients).toEqual([0, 1]);
    expect(c[3].coefficients).toEqual([0.3, 0.7]);
    expect(c[10].coefficients).toEqual([1, 0]);
    // Euclidean distance to (1/2, 1/2): |l1 - 1/2| * sqrt(2)
    expect(c[5].distance).toBe(0);
    expect(c[0].distance).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('more models: the uniform point first, then seeded Dirichlet(1) samples (deterministic, on the simplex)', () => {
    const a = searchCandidates('lambdas', 3, { seed: 4, samples: 5 });
    const b = searchCandidates('lambdas', 3, { seed: 4, samples: 5 });
    const other = searchCandidates('lambdas', 3, { seed: 5, samples: 5 });
    expect(a).toHaveLength(6);
    expect(a[0].coefficients).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(a[0].distance).toBe(0);
    expect(b).toEqual(a);
    expect(other[1].coefficients).not.toEqual(a[1].coefficients);
    for (const x of a.slice(1)) {
      expect(x.coefficients.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      for (const v of x.coefficients) expect(v).toBeGreaterThan(0);
    }
  });

  it('a Dirichlet(1) sample is normalised Exp(1) draws -ln(1 - u)', () => {
    const r1 = mulberry32(9);
    const u = [r1(), r1()];
    const e = u.map((x) => -Math.log(1 - x));
    const got = dirichletSample(mulberry32(9), 2);
    expect(got[0]).toBeCloseTo(e[0] / (e[0] + e[1]), 14);
    expect(got[1]).toBeCloseTo(e[1] / (e[0] + e[1]), 14);
  });
});

describe('chooseCandidate', () => {
  it('the largest mean over the tasks wins', () => {
    expect(
      chooseCandidate([scored([0], [0.5, 0.5], 0), scored([1], [0.9, 0.3], 1), scored([2], [0.6, 0.7], 2)]),
    ).toBe(2);
  });

  it('equal means: the smaller distance to uniform, then the earlier candidate', () => {
    expect(
      chooseCandidate([
        scored([0, 1], [0.6, 0.6], 0.7),
        scored([0.5, 0.5], [0.7, 0.5], 0),
        scored([1, 0], [0.6], 0.7),
      ]),
    ).toBe(1);
    expect(chooseCandidate([scored([0.4, 0.6], [0.5], 0.14), scored([0.6, 0.4], [0.5], 0.14)])).toBe(0);
  });

  it('NaN never wins; all NaN is an error', () => {
    expect(chooseCandidate([scored([0], [NaN], 0), scored([1], [0.1], 1)])).toBe(1);
    expect(() => chooseCandidate([scored([0], [NaN], 0)])).toThrow(/no candidate/);
  });
});
