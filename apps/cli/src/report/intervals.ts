/**
 * The uncertainty of a run's scores (docs/method.md §6): a 95% paired-bootstrap interval for
 * every score, for every cell of the results tables, and for each method's difference from
 * `average`. Each task's evaluation examples are resampled once (`PairedBootstrap`, keyed by the
 * task's name) and every model evaluated on the task is scored on those same resamples.
 */
import { FmnError } from '@fmn/core';
import {
  BOOTSTRAP_LEVEL,
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  PairedBootstrap,
  excludesZero,
  percentileInterval,
  type MetricName,
} from '@fmn/data';
import type { Interval, ReportBootstrap, ReportComparison, ReportTableIntervals } from './types.js';

/** One model's evaluation on a task, example by example. */
export interface ExampleEval {
  /** the score on all examples (the mean of the metrics) */
  readonly score: number;
  readonly metricNames: readonly MetricName[];
  readonly predictions: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
}

export interface EvaluatedMerge {
  readonly method: string;
  /** the merged tasks */
  readonly tasks: readonly string[];
  /** task -> its evaluation with the merged encoder and its own head */
  readonly evals: Record<string, ExampleEval>;
}

export interface RunIntervals {
  readonly bootstrap: ReportBootstrap;
  /** task -> interval of its fine-tuned score */
  readonly finetuned: Record<string, Interval>;
  /** parallel to the merges: task -> interval */
  readonly merges: Record<string, Interval>[];
  readonly comparisons: ReportComparison[];
  readonly tableIntervals: ReportTableIntervals[];
}

export interface IntervalOptions {
  readonly resamples?: number;
  readonly seed?: number;
  readonly level?: number;
}

const BASELINE = 'average';

/** Element-wise mean of replicate arrays. */
function meanOf(xs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(xs[0]!.length);
  for (const x of xs) for (let b = 0; b < out.length; b++) out[b] += x[b]!;
  for (let b = 0; b < out.length; b++) out[b] /= xs.length;
  return out;
}

/**
 * Intervals for a run: `tasks` with their fine-tuned evaluations (in report order), `merges` in
 * report order, `methods` the method labels in table order.
 */
export function runIntervals(
  tasks: readonly { readonly name: string; readonly finetuned: ExampleEval }[],
  merges: readonly EvaluatedMerge[],
  methods: readonly string[],
  o: IntervalOptions = {},
): RunIntervals {
  const resamples = o.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = o.seed ?? BOOTSTRAP_SEED;
  const level = o.level ?? BOOTSTRAP_LEVEL;
  const interval = (reps: Float64Array) => percentileInterval(reps, level);

  const boot = new Map<string, PairedBootstrap>();
  const replicatesOf = (task: string, e: ExampleEval, what: string): Float64Array => {
    let b = boot.get(task);
    if (!b) {
      b = new PairedBootstrap(e.labels.length, { resamples, seed, key: task });
      boot.set(task, b);
    }
    if (e.labels.length !== b.n)
      throw new FmnError(
        `${what} of task "${task}" was evaluated on ${e.labels.length} examples, the fine-tuned model on ${b.n}: the paired bootstrap needs the same examples`,
      );
    return b.scoreReplicates(e.metricNames, e.predictions, e.labels);
  };

  const ftReps = new Map<string, Float64Array>();
  for (const t of tasks) ftReps.set(t.name, replicatesOf(t.name, t.finetuned, 'the fine-tuned model'));
  const mergeReps = merges.map((m) => {
    const reps: Record<string, Float64Array> = {};
    for (const t of m.tasks) {
      const e = m.evals[t];
      if (!e)
        throw new FmnError(`the ${m.method} merge of ${m.tasks.join(' + ')} has no evaluation of "${t}"`);
      reps[t] = replicatesOf(t, e, `the ${m.method} merge of ${m.tasks.join(' + ')}`);
    }
    return reps;
  });

  const finetuned = Object.fromEntries([...ftReps].map(([t, r]) => [t, interval(r)]));
  const mergeIntervals = mergeReps.map((reps) =>
    Object.fromEntries(Object.entries(reps).map(([t, r]) => [t, interval(r)])),
  );

  // the results tables: per k, the fine-tuned row and one row per method (as summaryTables)
  const ks = [...new Set(merges.map((m) => m.tasks.length))].sort((a, b) => a - b);
  const taskNames = tasks.map((t) => t.name);
  const tableIntervals: ReportTableIntervals[] = [];
  const ftRow = (k: number): ReportTableIntervals => ({
    k,
    row: 'fine-tuned',
    tasks: Object.fromEntries(taskNames.map((t) => [t, finetuned[t]!])),
    average: interval(meanOf(taskNames.map((t) => ftReps.get(t)!))),
  });
  for (const k of ks) {
    tableIntervals.push(ftRow(k));
    for (const method of methods) {
      const ms = merges
        .map((m, i) => ({ m, reps: mergeReps[i]! }))
        .filter((x) => x.m.method === method && x.m.tasks.length === k);
      if (!ms.length) continue;
      const cells = new Map<string, Float64Array>();
      for (const t of taskNames) {
        const xs = ms.filter((x) => x.reps[t]).map((x) => x.reps[t]!);
        if (xs.length) cells.set(t, meanOf(xs));
      }
      tableIntervals.push({
        k,
        row: method,
        tasks: Object.fromEntries([...cells].map(([t, r]) => [t, interval(r)])),
        average: cells.size ? interval(meanOf([...cells.values()])) : [NaN, NaN],
      });
    }
  }

  // each method against average: the mean over (combination, task) of the paired difference
  const comparisons: ReportComparison[] = [];
  if (methods.includes(BASELINE)) {
    const baseline = new Map<string, number>();
    merges.forEach((m, i) => {
      if (m.method === BASELINE) baseline.set(m.tasks.join('\u0000'), i);
    });
    for (const method of methods) {
      if (method === BASELINE) continue;
      for (const k of ks) {
        const deltas: number[] = [];
        const deltaReps: Float64Array[] = [];
        merges.forEach((m, i) => {
          if (m.method !== method || m.tasks.length !== k) return;
          const j = baseline.get(m.tasks.join('\u0000'));
          if (j === undefined) return;
          for (const t of m.tasks) {
            const a = m.evals[t];
            const z = merges[j]!.evals[t];
            if (!a || !z) continue;
            deltas.push(a.score - z.score);
            const ra = mergeReps[i]![t]!;
            const rz = mergeReps[j]![t]!;
            deltaReps.push(ra.map((v, b) => v - rz[b]!));
          }
        });
        if (!deltas.length) continue;
        const ci95 = interval(meanOf(deltaReps));
        comparisons.push({
          method,
          baseline: BASELINE,
          k,
          delta: deltas.reduce((s, d) => s + d, 0) / deltas.length,
          ci95,
          significant: excludesZero(ci95),
          pairs: deltas.length,
        });
      }
    }
  }

  return {
    bootstrap: {
      method: "paired percentile bootstrap over each task's evaluation examples",
      resamples,
      seed,
      level,
    },
    finetuned,
    merges: mergeIntervals,
    comparisons,
    tableIntervals,
  };
}
