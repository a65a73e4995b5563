/**
 * The held-out part of a task's train split: rows kept out of fine-tuning, used for early stopping
 * and recorded in results.json so that `fmn demo`'s coefficient search draws its held-out examples
 * from the same rows (never from rows a model was fine-tuned on).
 */
import { FmnError } from '@fmn/core';
import { sampleIndices } from '@fmn/data';
import { Components } from './components.js';

/** What results.json records per task about its held-out rows. */
export interface HeldOutRows {
  /** fraction of the train rows held out */
  fraction: number;
  /** seed of `sampleIndices` (@fmn/data) that drew them */
  seed: number;
  /**
   * what was drawn: single rows (absent: the first zoo builds), or groups of rows that share a
   * text (`shared-text`: no held-out row shows a text that a fine-tuning row shows, as dev)
   */
  by?: 'row' | 'shared-text';
  /** 0-based indices of the held-out rows in train.tsv's example order, ascending */
  rows: number[];
}

function targetRows(n: number, fraction: number): number {
  if (!(fraction > 0 && fraction < 1))
    throw new FmnError(`held-out fraction must be in (0, 1), got ${fraction}`);
  const k = Math.round(fraction * n);
  if (k < 1 || k >= n)
    throw new FmnError(`held-out part of ${n} train rows at fraction ${fraction} would be ${k} rows`);
  return k;
}

/**
 * `round(fraction * n)` rows of [0, n) drawn by `sampleIndices(n, k, seed)`, ascending; the other
 * rows are the fine-tuning rows.
 */
export function heldOutRows(n: number, fraction: number, seed: number): HeldOutRows {
  const k = targetRows(n, fraction);
  const rows = sampleIndices(n, k, seed).sort((a, b) => a - b);
  return { fraction, seed, rows };
}

/**
 * Held-out rows drawn by group: rows that show the same text (any column) are one group (connected
 * components), the groups are visited in the order `sampleIndices(groups, groups, seed)` gives
 * (groups numbered by their first row), and whole groups are taken until at least
 * `round(fraction * n)` rows are held out. A dictionary entry of nli's train split then never sits
 * on both sides, as dev's split keeps it (WordNet tasks pair entries that recur across rows).
 * With no text shared, every group is one row.
 */
export function heldOutGroups(
  texts: readonly (readonly string[])[],
  fraction: number,
  seed: number,
): HeldOutRows {
  const n = texts.length;
  const k = targetRows(n, fraction);
  const comps = new Components();
  texts.forEach((row, i) => {
    comps.find(`r${i}`);
    for (const t of row) comps.union(`r${i}`, `t${t}`);
  });
  const groups: number[][] = [];
  const index = new Map<string, number>();
  texts.forEach((_, i) => {
    const root = comps.find(`r${i}`);
    let g = index.get(root);
    if (g === undefined) {
      g = groups.length;
      index.set(root, g);
      groups.push([]);
    }
    groups[g].push(i);
  });
  const rows: number[] = [];
  for (const g of sampleIndices(groups.length, groups.length, seed)) {
    if (rows.length >= k) break;
    rows.push(...groups[g]);
  }
  if (rows.length >= n)
    throw new FmnError(`held-out groups of ${n} train rows at fraction ${fraction} leave no fine-tuning row`);
  return { fraction, seed, by: 'shared-text', rows: rows.sort((a, b) => a - b) };
}

/** The rows of [0, n) not held out, ascending. */
export function fineTuningRows(n: number, held: HeldOutRows): number[] {
  const out = new Set(held.rows);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (!out.has(i)) rows.push(i);
  return rows;
}
