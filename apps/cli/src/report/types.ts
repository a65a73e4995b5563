/** The data of a `fmn run` / `fmn demo` report, as written to report.json. */
import type { SearchReport } from '../search/run-search.js';

/** [lo, hi]; NaN ends (null in report.json) when no resample had a defined score */
export type Interval = readonly [number, number];

export interface Score {
  /** metric name -> value */
  readonly metrics: Record<string, number>;
  /** the task's score: the mean of its metrics */
  readonly score: number;
  readonly examples: number;
  /** 95% paired-bootstrap percentile interval of the score (docs/method.md §6) */
  readonly ci95: Interval;
}

export interface ReportTask {
  readonly name: string;
  readonly model: string;
  readonly evalData: string;
  readonly fisherData: string;
  readonly metricNames: readonly string[];
  readonly finetuned: Score;
}

export interface ReportMerge {
  /** the method's label in the tables (e.g. "fisher-nodes (block)") */
  readonly method: string;
  /** the merged tasks, in config order */
  readonly tasks: readonly string[];
  /** each merged task's score with its own head */
  readonly scores: Record<string, Score>;
  readonly seconds: number;
  /** the coefficient search that chose this merge's coefficients (docs/method.md §5.6), when asked for */
  readonly search?: SearchReport;
}

export interface ReportFisher {
  readonly task: string;
  /** a mask or full Fisher file, or RegMean's Gram file (computed on the same examples) */
  readonly kind: 'mask' | 'full' | 'gram';
  /** seconds the computation took when it ran (also for a cached file) */
  readonly seconds: number;
  readonly examples: number;
  readonly cached: boolean;
  readonly file: string;
  readonly backend: string;
}

export interface ReportMaskFisher {
  readonly task: string;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  /** head Fisher, [layers * heads] row-major */
  readonly head: readonly number[];
  /** per layer: quantiles of the neuron Fisher at QUANTILES, and the mean */
  readonly neuron: readonly { readonly mean: number; readonly quantiles: readonly number[] }[];
}

export interface ReportStage {
  readonly stage: string;
  readonly seconds: number;
}

/** A method against `average` over all merges of k tasks (docs/method.md §6). */
export interface ReportComparison {
  readonly method: string;
  readonly baseline: 'average';
  readonly k: number;
  /** mean over the combinations of k tasks and their tasks of score(method) - score(average) */
  readonly delta: number;
  /** 95% paired-bootstrap interval of delta */
  readonly ci95: Interval;
  /** the interval excludes 0 */
  readonly significant: boolean;
  /** (combination, task) score pairs in the mean */
  readonly pairs: number;
}

/** 95% intervals of one row of a results table: each task's cell and the average over tasks. */
export interface ReportTableIntervals {
  readonly k: number;
  /** 'fine-tuned' or a method label */
  readonly row: string;
  /** task -> interval of the cell (the mean over the merges of k tasks containing the task) */
  readonly tasks: Record<string, Interval>;
  readonly average: Interval;
}

/** How the intervals were computed. */
export interface ReportBootstrap {
  readonly method: "paired percentile bootstrap over each task's evaluation examples";
  readonly resamples: number;
  readonly seed: number;
  readonly level: number;
}

export interface Report {
  readonly format: 'fmn-report';
  readonly version: 1;
  readonly title: string;
  readonly created: string;
  readonly architecture: string;
  readonly backend: string;
  readonly methods: readonly string[];
  readonly tasks: readonly ReportTask[];
  readonly merges: readonly ReportMerge[];
  readonly bootstrap: ReportBootstrap;
  /** every method other than average, for every k */
  readonly comparisons: readonly ReportComparison[];
  readonly tableIntervals: readonly ReportTableIntervals[];
  readonly fisher: readonly ReportFisher[];
  readonly maskFisher: readonly ReportMaskFisher[];
  readonly stages: readonly ReportStage[];
  readonly notes: readonly string[];
}

/** Quantiles of the neuron Fisher kept per layer in the report. */
export const QUANTILES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
