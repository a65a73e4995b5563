import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve } from './cholesky.js';

describe('cholesky', () => {
  it('factors a hand-computed 3x3 matrix and solves against it', () => {
    // S = L L^T with L = [[2,0,0],[1,3,0],[-1,2,1]]
    const S = Float64Array.of(4, 2, -2, 2, 10, 5, -2, 5, 6);
    const L = cholesky(S, 3)!;
    expect([...L]).toEqual([2, 0, 0, 1, 3, 0, -1, 2, 1]);
    // S x = b for x = [1, -1, 2]: b = [4-2-4, 2-10+10, -2-5+12] = [-2, 2, 5]
    const b = Float64Array.of(-2, 2, 5);
    choleskySolve(L, 3, b);
    expect(b[0]).toBeCloseTo(1, 14);
    expect(b[1]).toBeCloseTo(-1, 14);
    expect(b[2]).toBeCloseTo(2, 14);
  });

  it('returns null for a matrix that is not positive definite', () => {
    expect(cholesky(Float64Array.of(1, 2, 2, 1), 2)).toBeNull();
    expect(cholesky(Float64Array.of(1, 1, 1, 1), 2)).toBeNull();
    expect(cholesky(Float64Array.of(0, 0, 0, 1), 2)).toBeNull();
  });
});
