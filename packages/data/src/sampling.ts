import { FmnError } from '@fmn/core';

/**
 * mulberry32: a 32-bit seeded generator. State s = seed >>> 0; each draw:
 *   s = (s + 0x6D2B79F5) mod 2^32; t = s;
 *   t = imul(t ^ (t >>> 15), t | 1); t ^= t + imul(t ^ (t >>> 7), t | 61);
 *   u = ((t ^ (t >>> 14)) >>> 0) / 2^32, uniform in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Indices of the examples to use (METHOD.md section 3).
 *
 * - `'all'`: 0, 1, ..., n-1 (file order, unshuffled).
 * - `N`: a seeded partial Fisher-Yates shuffle. Start from idx = [0, 1, ..., n-1] and the
 *   mulberry32 generator seeded with `seed`; for i = 0 .. min(N, n)-1: draw u, let
 *   j = i + floor(u * (n - i)), swap idx[i] and idx[j]. The result is idx[0 .. min(N, n)), in
 *   DRAWN order (so consecutive batches are random subsets, like a shuffled data loader).
 *   N >= n therefore takes every example, in shuffled order.
 */
export function sampleIndices(n: number, samples: number | 'all', seed = 0): number[] {
  if (samples === 'all') return Array.from({ length: n }, (_, i) => i);
  if (!Number.isInteger(samples) || samples < 1) {
    throw new FmnError(`samples must be a positive integer or "all", got ${String(samples)}`);
  }
  if (!Number.isInteger(seed)) throw new FmnError(`seed must be an integer, got ${seed}`);
  const rand = mulberry32(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  const k = Math.min(samples, n);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, k);
}

/** The examples chosen by `sampleIndices` (see there for the exact algorithm); seed default 0. */
export function sampleExamples<T>(examples: readonly T[], samples: number | 'all', seed = 0): T[] {
  return sampleIndices(examples.length, samples, seed).map((i) => examples[i]!);
}
