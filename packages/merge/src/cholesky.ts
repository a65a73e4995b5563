/**
 * Symmetric positive-definite solves in float64 by Cholesky factorisation (RegMean's
 * W* = A S^-1, METHOD.md 5.4): S = L L^T, then two triangular solves per right-hand side.
 */

/**
 * The lower Cholesky factor L (row-major n x n, upper part zero) of a symmetric matrix S given
 * row-major; null when S is not (numerically) positive definite.
 */
export function cholesky(S: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/** Solves (L L^T) x = b in place (b becomes x), L from `cholesky`. */
export function choleskySolve(L: Float64Array, n: number, b: Float64Array): void {
  // forward: L y = b
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  // backward: L^T x = y
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
}
