/** The data of a `fmn run` / `fmn demo` report, as written to report.json. */

export interface Score {
  /** metric name -> value */
  readonly metrics: Record<string, number>;
  /** the task's score: the mean of its metrics */
  readonly score: number;
  readonly examples: number;
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
}

export interface ReportFisher {
  readonly task: string;
  readonly kind: 'mask' | 'full';
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
  readonly fisher: readonly ReportFisher[];
  readonly maskFisher: readonly ReportMaskFisher[];
  readonly stages: readonly ReportStage[];
  readonly notes: readonly string[];
}

/** Quantiles of the neuron Fisher kept per layer in the report. */
export const QUANTILES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
