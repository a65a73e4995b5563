/** Table cells shared by the text, Markdown and HTML renderers: scores x 100 with their intervals. */
import { comparisonsOfK, signedInterval, signedPoints, standing } from './comparisons.js';
import { fisherTimes, type SummaryTable } from './summary.js';
import type { Interval, Report } from './types.js';

export const score = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : (100 * v).toFixed(2);
export const secs = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));
export const interval = (ci: Interval | null | undefined) =>
  ci ? `[${score(ci[0])}, ${score(ci[1])}]` : '-';

/** Half the width of a 95% interval, x 100; undefined when the interval is not known. */
export function halfWidth(ci: Interval | null | undefined): string | undefined {
  if (!ci || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return undefined;
  return ((100 * (ci[1] - ci[0])) / 2).toFixed(2);
}

/** A score x 100 with +/- half its interval's width: "83.12 ±2.10". */
export function scorePm(v: number | null | undefined, ci: Interval | null | undefined): string {
  const s = score(v);
  const h = halfWidth(ci);
  return h === undefined || s === '-' ? s : `${s} ±${h}`;
}

export function tableCells(t: SummaryTable, tasks: readonly string[]): string[][] {
  return t.rows.map((r) => [
    r.label,
    ...tasks.map((n) => scorePm(r.scores[n], r.ci95[n])),
    scorePm(r.average, r.averageCi95),
  ]);
}

/** One row per method compared with average at k: method, delta, 95% interval, standing. */
export function comparisonCells(r: Report, k: number): string[][] {
  return comparisonsOfK(r.comparisons ?? [], k).map((c) => [
    c.method,
    signedPoints(c.delta),
    signedInterval(c.ci95),
    standing(c),
  ]);
}

export const COMPARISON_HEAD = ['method', 'minus average', '95% interval', 'verdict'];

export const PM_NOTE =
  "± is half the width of the score's 95% paired-bootstrap interval over the task's evaluation examples (1000 resamples, seed 0)";

export function comparisonNote(t: SummaryTable, r: Report): string {
  const cs = comparisonsOfK(r.comparisons ?? [], t.k);
  const pairs = cs[0]?.pairs;
  return `Each method minus average (x 100): the mean of its ${pairs ?? ''} task-score differences over the ${t.combinations} combination${t.combinations === 1 ? '' : 's'}, with a 95% paired-bootstrap interval (the same resampled examples for both methods):`;
}

/** The Fisher-time table's header: a Gram column when the run computed Gram matrices (RegMean). */
export function fisherTimeHead(r: Report, unit = ' (s)'): string[] {
  const head = ['task', 'examples', `mask nodes${unit}`, `full Fisher${unit}`, 'full / mask'];
  return r.fisher.some((f) => f.kind === 'gram') ? [...head, `Gram${unit}`] : head;
}

/** One row per model with a measured Fisher time: task, examples, mask, full, full / mask (, Gram). */
export function fisherTimeCells(r: Report): string[][] {
  const gram = r.fisher.some((f) => f.kind === 'gram');
  return fisherTimes(r)
    .filter((f) => f.mask !== undefined || f.full !== undefined || f.gram !== undefined)
    .map((f) => [
      f.task,
      String(f.examples ?? '-'),
      secs(f.mask),
      secs(f.full),
      f.ratio === undefined ? '-' : `${f.ratio.toFixed(1)}x`,
      ...(gram ? [secs(f.gram)] : []),
    ]);
}

/** The coefficient search's table head (docs/method.md §5.6). */
export const SEARCH_HEAD = ['method', 'tasks', 'searched', 'chosen', 'held-out score', 'candidates'];

export const SEARCH_NOTE =
  "Coefficients chosen per merge by the mean over its tasks of the held-out score (x 100) on a seeded part of each task's train split that the Fisher and Gram files do not use; equal scores go to the coefficients nearer uniform. Every candidate's scores are in report.json (merges[].search).";

/** One row per merge whose coefficients were searched: method, tasks, kind, chosen, its score, count. */
export function searchCells(r: Report): string[][] {
  return r.merges
    .filter((m) => m.search)
    .map((m) => {
      const s = m.search!;
      return [
        m.method,
        m.tasks.join(' + '),
        s.kind === 'scale' ? 'scale' : 'lambda per model',
        s.chosen.coefficients.map((v) => String(+v.toFixed(3))).join(', '),
        score(s.chosen.mean),
        String(s.candidates.length),
      ];
    });
}
