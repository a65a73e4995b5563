import type { Interval, Report } from './types.js';

export interface SummaryRow {
  readonly label: string;
  /** task -> mean score over the merges that include it (or the fine-tuned score); null when none */
  readonly scores: Record<string, number | null>;
  /** mean over the tasks that have a score */
  readonly average: number | null;
  /** merges averaged into each cell */
  readonly merges: number;
  /** task -> 95% interval of the cell (from report.tableIntervals); null when not known */
  readonly ci95: Record<string, Interval | null>;
  readonly averageCi95: Interval | null;
}

export interface SummaryTable {
  /** number of tasks merged at once */
  readonly k: number;
  readonly combinations: number;
  readonly rows: readonly SummaryRow[];
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/**
 * One table per combination size k: the fine-tuned row, then one row per method whose cell for
 * task t is the mean of t's score over every merged combination of size k that contains t.
 */
export function summaryTables(r: Report): SummaryTable[] {
  const ks = [...new Set(r.merges.map((m) => m.tasks.length))].sort((a, b) => a - b);
  const taskNames = r.tasks.map((t) => t.name);
  const intervals = (k: number, row: string) => {
    const iv = (r.tableIntervals ?? []).find((x) => x.k === k && x.row === row);
    return {
      ci95: Object.fromEntries(taskNames.map((t) => [t, iv?.tasks[t] ?? null])),
      averageCi95: iv?.average ?? null,
    };
  };
  return ks.map((k) => {
    const ofK = r.merges.filter((m) => m.tasks.length === k);
    const combos = new Set(ofK.map((m) => m.tasks.join('+')));
    const finetuned: SummaryRow = {
      label: 'fine-tuned',
      scores: Object.fromEntries(r.tasks.map((t) => [t.name, t.finetuned.score])),
      average: mean(r.tasks.map((t) => t.finetuned.score)),
      merges: 0,
      ...intervals(k, 'fine-tuned'),
    };
    const rows: SummaryRow[] = [finetuned];
    for (const method of r.methods) {
      const ms = ofK.filter((m) => m.method === method);
      if (!ms.length) continue;
      const scores: Record<string, number | null> = {};
      for (const t of taskNames)
        scores[t] = mean(ms.filter((m) => m.scores[t]).map((m) => m.scores[t].score));
      const present = Object.values(scores).filter((v): v is number => v !== null);
      rows.push({
        label: method,
        scores,
        average: mean(present),
        merges: ms.length,
        ...intervals(k, method),
      });
    }
    return { k, combinations: combos.size, rows };
  });
}

/** Mask- and full-Fisher (and Gram) time of each task, and the ratio full / mask. */
export function fisherTimes(
  r: Report,
): { task: string; mask?: number; full?: number; gram?: number; ratio?: number; examples?: number }[] {
  return r.tasks.map((t) => {
    const mask = r.fisher.find((f) => f.task === t.name && f.kind === 'mask');
    const full = r.fisher.find((f) => f.task === t.name && f.kind === 'full');
    const gram = r.fisher.find((f) => f.task === t.name && f.kind === 'gram');
    return {
      task: t.name,
      mask: mask?.seconds,
      full: full?.seconds,
      gram: gram?.seconds,
      ratio: mask && full && mask.seconds > 0 ? full.seconds / mask.seconds : undefined,
      examples: mask?.examples ?? full?.examples,
    };
  });
}
