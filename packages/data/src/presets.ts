/**
 * GLUE task presets: where the text and label columns are, how many labels, their names, and the
 * metrics METHOD.md section 6 reports.
 *
 * Column candidates cover both layouts users actually have on disk:
 * - GLUE's own TSV files (from the original GLUE download: `train.tsv`, `dev.tsv`, MNLI's
 *   `dev_matched.tsv` / `dev_mismatched.tsv`), whose header names are listed first;
 * - the HuggingFace hub's `nyu-mll/glue` export (Parquet / JSONL / CSV with `sentence`,
 *   `sentence1`/`sentence2`, `question1`/`question2`, `premise`/`hypothesis`, `label`).
 * The first candidate present in the file is used.
 *
 * `labelNames` follow the HuggingFace `glue` dataset's class order (the order the hub's GLUE
 * fine-tuned models were trained with): a string label found in this list maps to its index when
 * the model's config has only generic `LABEL_i` names.
 */

export type GlueTask = 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli';

export type MetricName = 'accuracy' | 'f1' | 'matthews' | 'pearson' | 'spearman';

export interface TaskPreset {
  readonly name: GlueTask;
  /** candidate names of the first text column */
  readonly a: readonly string[];
  /** candidate names of the second text column (pair tasks) */
  readonly b?: readonly string[];
  /** candidate names of the label column */
  readonly label: readonly string[];
  /** 1 = regression (STS-B) */
  readonly numLabels: number;
  /** class names in index order (empty for regression) */
  readonly labelNames: readonly string[];
  /** metrics reported for the task (METHOD.md section 6) */
  readonly metrics: readonly MetricName[];
  /**
   * GLUE ships this task's train/dev TSVs without a header row (CoLA): the column names to use
   * when the first row does not look like a header.
   */
  readonly headerlessTsvColumns?: readonly string[];
}

const PRESETS: Record<GlueTask, TaskPreset> = {
  cola: {
    name: 'cola',
    a: ['sentence'],
    label: ['label'],
    numLabels: 2,
    labelNames: ['unacceptable', 'acceptable'],
    metrics: ['matthews'],
    // GLUE CoLA train.tsv / dev.tsv: source code, label, original author's mark, sentence
    headerlessTsvColumns: ['source', 'label', 'label_notes', 'sentence'],
  },
  sst2: {
    name: 'sst2',
    a: ['sentence'],
    label: ['label'],
    numLabels: 2,
    labelNames: ['negative', 'positive'],
    metrics: ['accuracy'],
  },
  mrpc: {
    name: 'mrpc',
    // GLUE TSV header: Quality  #1 ID  #2 ID  #1 String  #2 String
    a: ['#1 String', 'sentence1'],
    b: ['#2 String', 'sentence2'],
    label: ['Quality', 'label'],
    numLabels: 2,
    labelNames: ['not_equivalent', 'equivalent'],
    metrics: ['accuracy', 'f1'],
  },
  qqp: {
    name: 'qqp',
    // GLUE TSV header: id qid1 qid2 question1 question2 is_duplicate
    a: ['question1'],
    b: ['question2'],
    label: ['is_duplicate', 'label'],
    numLabels: 2,
    labelNames: ['not_duplicate', 'duplicate'],
    metrics: ['accuracy', 'f1'],
  },
  stsb: {
    name: 'stsb',
    // GLUE TSV header: index genre filename year old_index source1 source2 sentence1 sentence2 score
    a: ['sentence1'],
    b: ['sentence2'],
    label: ['score', 'label'],
    numLabels: 1,
    labelNames: [],
    metrics: ['pearson', 'spearman'],
  },
  mnli: {
    name: 'mnli',
    // GLUE TSV header: index promptID pairID genre sentence1_binary_parse ... sentence1 sentence2
    // label1 [label2..label5] gold_label
    a: ['sentence1', 'premise'],
    b: ['sentence2', 'hypothesis'],
    label: ['gold_label', 'label'],
    numLabels: 3,
    labelNames: ['entailment', 'neutral', 'contradiction'],
    metrics: ['accuracy'],
  },
  qnli: {
    name: 'qnli',
    // GLUE TSV header: index question sentence label
    a: ['question'],
    b: ['sentence'],
    label: ['label'],
    numLabels: 2,
    labelNames: ['entailment', 'not_entailment'],
    metrics: ['accuracy'],
  },
  rte: {
    name: 'rte',
    a: ['sentence1'],
    b: ['sentence2'],
    label: ['label'],
    numLabels: 2,
    labelNames: ['entailment', 'not_entailment'],
    metrics: ['accuracy'],
  },
  wnli: {
    name: 'wnli',
    a: ['sentence1'],
    b: ['sentence2'],
    label: ['label'],
    numLabels: 2,
    labelNames: ['not_entailment', 'entailment'],
    metrics: ['accuracy'],
  },
};

export const GLUE_TASKS = Object.keys(PRESETS) as GlueTask[];

/** Aliases accepted for task names and GLUE folder names (case-insensitive, `-`/`_` ignored). */
function normalizeTaskName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/** The preset for a GLUE task name ("sst2", "SST-2", "sts-b", "MNLI", ...), or undefined. */
export function findTaskPreset(name: string): TaskPreset | undefined {
  const n = normalizeTaskName(name);
  return Object.hasOwn(PRESETS, n) ? (PRESETS as Record<string, TaskPreset>)[n] : undefined;
}
