/**
 * mergekit's sparsification of one task vector (METHOD.md 5.7; mergekit's `sparsify.py`), per
 * tensor: `magnitude` keeps exactly k = int(density * numel) entries of largest |x|, `random`
 * (DARE) keeps each entry with probability `density`; with `rescale` the kept entries are scaled
 * so that their L1 norm equals the tensor's before the drop. A density >= 1 leaves the tensor
 * unchanged (and unscaled). The papers' conventions (whole-model top-k%, DARE's 1/(1-p)) live in
 * taskvectors.ts.
 */
import { FmnError } from '@fmn/core';

/** Below this L1 norm (before or after the drop) mergekit does not rescale. */
export const MERGEKIT_RESCALE_EPS = 1e-7;

export function checkDensity(density: number, what = 'density'): void {
  if (!(Number.isFinite(density) && density >= 0)) {
    throw new FmnError(`${what} must be a number >= 0, got ${density}`);
  }
}

/** How many entries mergekit's magnitude trim keeps out of n: int(density * n). */
export function mergekitKeepCount(n: number, density: number): number {
  return Math.floor(density * n);
}

/** sum_i |x_i| in float64 */
export function l1Norm(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s;
}

/**
 * In place: scales `masked` so that its L1 norm equals `before` (the L1 norm of the tensor
 * before sparsification), unless either norm is below MERGEKIT_RESCALE_EPS (then `masked` stays
 * as it is). Norms are summed in float64.
 */
export function rescaleL1(before: number, masked: Float32Array): Float32Array {
  const after = l1Norm(masked);
  if (before < MERGEKIT_RESCALE_EPS || after < MERGEKIT_RESCALE_EPS) return masked;
  const s = before / after;
  for (let i = 0; i < masked.length; i++) masked[i] *= s;
  return masked;
}

export interface SparsifyOptions {
  /** L1-rescale the kept entries (mergekit's `rescale`) */
  readonly rescale?: boolean;
  /** the tensor's name, for messages */
  readonly tensor?: string;
  /** where to write: a new array by default, or `tau` itself to work in place */
  readonly out?: Float32Array;
}

/**
 * mergekit's `magnitude`: keeps exactly int(density * n) entries of largest magnitude, zeroes the
 * rest; among equal magnitudes the lower flat index is kept (a stable descending sort of |x|;
 * mergekit's `torch.argsort(descending=True)` is not stable, so its order there is unspecified -
 * it matters only for equal non-zero magnitudes). A density that keeps no entry of a non-empty
 * tensor is an error (mergekit asserts).
 */
export function magnitudeSparsify(
  tau: Float32Array,
  density: number,
  options: SparsifyOptions = {},
): Float32Array {
  checkDensity(density);
  const out = options.out ?? new Float32Array(tau.length);
  if (out !== tau) out.set(tau);
  const n = tau.length;
  if (density >= 1 || n === 0) return out;
  const k = mergekitKeepCount(n, density);
  if (k <= 0) {
    throw new FmnError(
      `density ${density} keeps no entry of ${options.tensor ? `tensor "${options.tensor}"` : 'a tensor'} with ${n} entries (mergekit keeps int(density * numel))`,
    );
  }
  const before = options.rescale ? l1Norm(out) : 0;
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) mags[i] = Math.abs(out[i]);
  mags.sort();
  const t = mags[n - k]; // the k-th largest magnitude
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(out[i]) > t) above++;
  let equalLeft = k - above; // entries equal to t that are still kept, by increasing index
  for (let i = 0; i < n; i++) {
    const a = Math.abs(out[i]);
    if (a > t) continue;
    if (a === t && equalLeft > 0) {
      equalLeft--;
      continue;
    }
    out[i] = 0;
  }
  return options.rescale ? rescaleL1(before, out) : out;
}

/**
 * mergekit's `random` (DARE): keeps entry i when the i-th draw of `rng` is below `density`
 * (a Bernoulli(density) mask), zeroes the others; with `rescale`, L1-rescaled (rescaleL1), not
 * divided by density.
 */
export function bernoulliSparsify(
  tau: Float32Array,
  density: number,
  rng: { next(): number },
  options: Omit<SparsifyOptions, 'tensor'> = {},
): Float32Array {
  checkDensity(density);
  const out = options.out ?? new Float32Array(tau.length);
  if (out !== tau) out.set(tau);
  if (density >= 1) return out;
  const before = options.rescale ? l1Norm(out) : 0;
  for (let i = 0; i < out.length; i++) if (!(rng.next() < density)) out[i] = 0;
  return options.rescale ? rescaleL1(before, out) : out;
}
