import { describe, expect, it } from 'vitest';
import {
  disjointMean,
  electAndDisjointMeanInPlace,
  electSigns,
  sumVectors,
  sumVectorsInPlace,
} from './taskvectors.js';

/** Seeded vectors with exact zeros, negative zeros, sign ties and values of mixed magnitude. */
function vectors(models: number, n: number, seed: number): Float32Array[] {
  let x = seed;
  const next = (): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  return Array.from({ length: models }, () =>
    Float32Array.from({ length: n }, () => {
      const r = next();
      if (r < 0.15) return 0;
      if (r < 0.25) return -0;
      if (r < 0.35) return 0.5; // equal magnitudes: sums of exactly 0 across models
      if (r < 0.45) return -0.5;
      return (next() - 0.5) * 10 ** Math.floor(next() * 6 - 3);
    }),
  );
}

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('in-place TIES combine and task-vector sum', () => {
  for (const [models, seed] of [
    [2, 1],
    [3, 2],
    [7, 3],
  ] as const) {
    it(`match disjointMean(electSigns(...)) and sumVectors bit for bit (${models} models)`, () => {
      for (const majority of [1, -1]) {
        const a = vectors(models, 4096, seed);
        const contribA = new Float64Array(models);
        const want = disjointMean(a, electSigns(a, majority), contribA);
        const b = a.map((v) => v.slice());
        const contribB = new Float64Array(models);
        const got = electAndDisjointMeanInPlace(b, majority, contribB);
        expect(got).toBe(b[0]);
        expect(bytes(got).equals(bytes(want))).toBe(true);
        expect([...contribB]).toEqual([...contribA]);
      }
      const a = vectors(models, 4096, seed + 10);
      const contribA = new Float64Array(models);
      const want = sumVectors(a, contribA);
      const b = a.map((v) => v.slice());
      const contribB = new Float64Array(models);
      const got = sumVectorsInPlace(b, contribB);
      expect(got).toBe(b[0]);
      expect(bytes(got).equals(bytes(want))).toBe(true);
      expect([...contribB]).toEqual([...contribA]);
    });
  }

  it('a sum of negative zeros is +0, as in sumVectors', () => {
    const got = sumVectorsInPlace([Float32Array.of(-0), Float32Array.of(-0)]);
    expect(Object.is(got[0], 0)).toBe(true);
  });
});
