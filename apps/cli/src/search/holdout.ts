/**
 * The coefficient search's held-out examples (docs/method.md §5.6): a seeded draw from a task's
 * train split, never dev, leaving out the examples its Fisher / Gram file was computed on.
 */
import { FmnError } from '@fmn/core';
import { sampleIndices } from '@fmn/data';

/** Held-out examples per task when none is given. */
export const DEFAULT_HOLDOUT = 256;

/**
 * `holdout` indices of [0, n) not in `exclude`: the examples left are taken in file order and
 * `sampleIndices(left, holdout, seed)` picks among them. An FmnError when none is left.
 */
export function heldOutIndices(
  n: number,
  holdout: number,
  seed: number,
  exclude: Iterable<number> = [],
  file = '',
): number[] {
  const out = new Set(exclude);
  const left: number[] = [];
  for (let i = 0; i < n; i++) if (!out.has(i)) left.push(i);
  if (left.length === 0)
    throw new FmnError(
      `coefficient search: no train example is left for the held-out part (all ${n} were used for the Fisher / Gram matrices); give more data or fewer samples`,
      file || undefined,
    );
  return sampleIndices(left.length, holdout, seed).map((i) => left[i]);
}

/**
 * The examples a Fisher or Gram file was computed on, when its metadata records the same data
 * (sha256) and the train split: `sampleIndices(n, samples, seed)` as `fmn fisher` and `fmn gram`
 * draw them. Otherwise none (another dataset's examples cannot overlap).
 */
export function recordedSamples(
  metadata: Readonly<Record<string, string>>,
  dataSha256: string,
  n: number,
): number[] {
  if (metadata.data_sha256 !== dataSha256) return [];
  if ((metadata.split ?? 'train') !== 'train') return [];
  const samples = metadata.samples === 'all' ? 'all' : Number(metadata.samples);
  const seed = Number(metadata.seed ?? 0);
  if (samples !== 'all' && !(Number.isInteger(samples) && samples > 0)) return [];
  if (!Number.isInteger(seed)) return [];
  return sampleIndices(n, samples, seed);
}
