import { describe, expect, it } from 'vitest';
import { accumulateEmbeddingSquares } from './per-example-squared-gradient.js';

describe('accumulateEmbeddingSquares', () => {
  it("adds an example's rows of one index before squaring, then sums over examples (hand-computed)", () => {
    // B=2, T=2, E=1; table of 3 rows. example 0 gathers rows 1, 1 (grads 2, 3: (2+3)^2 = 25 on row 1);
    // example 1 gathers rows 0, 1 (grads 4, -1: 16 on row 0, 1 on row 1)
    const acc = new Float32Array(3);
    accumulateEmbeddingSquares(
      acc,
      Float32Array.from([2, 3, 4, -1]),
      BigInt64Array.from([1n, 1n, 0n, 1n]),
      2,
      2,
      1,
      false,
    );
    expect(Array.from(acc)).toEqual([16, 26, 0]);
  });
  it('broadcast indices [T] are the same rows for every example', () => {
    // E=2: rows 0 and 2 for both examples
    const acc = new Float32Array(6);
    const grad = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    accumulateEmbeddingSquares(acc, grad, BigInt64Array.from([0n, 2n]), 2, 2, 2, true);
    expect(Array.from(acc)).toEqual([1 + 25, 4 + 36, 0, 0, 9 + 49, 16 + 64]);
  });
});
