/**
 * The held-out part of a task's train split: rows kept out of fine-tuning, used for early stopping
 * and recorded in results.json so that `fmn demo`'s coefficient search draws its held-out examples
 * from the same rows (never from rows a model was fine-tuned on).
 */
import { FmnError } from '@fmn/core';
import { sampleIndices } from '@fmn/data';

/** What results.json records per task about its held-out rows. */
export interface HeldOutRows {
  /** fraction of the train rows held out */
  fraction: number;
  /** seed of `sampleIndices` (@fmn/data) that drew them */
  seed: number;
  /** 0-based indices of the held-out rows in train.tsv's example order, ascending */
  rows: number[];
}

/**
 * `round(fraction * n)` rows of [0, n) drawn by `sampleIndices(n, k, seed)`, ascending; the other
 * rows are the fine-tuning rows.
 */
export function heldOutRows(n: number, fraction: number, seed: number): HeldOutRows {
  if (!(fraction > 0 && fraction < 1))
    throw new FmnError(`held-out fraction must be in (0, 1), got ${fraction}`);
  const k = Math.round(fraction * n);
  if (k < 1 || k >= n)
    throw new FmnError(`held-out part of ${n} train rows at fraction ${fraction} would be ${k} rows`);
  const rows = sampleIndices(n, k, seed).sort((a, b) => a - b);
  return { fraction, seed, rows };
}

/** The rows of [0, n) not held out, ascending. */
export function fineTuningRows(n: number, held: HeldOutRows): number[] {
  const out = new Set(held.rows);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (!out.has(i)) rows.push(i);
  return rows;
}
