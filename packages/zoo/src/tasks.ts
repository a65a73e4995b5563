/** The zoo's tasks that have fine-tuned models, as constants (data/tasks.json lists them all). */
import { zooPath } from './paths.js';

export type TaskKind = 'single' | 'pair';
export type TaskMetric = 'accuracy' | 'accuracy_f1' | 'pearson_spearman' | 'matthews';

export interface ZooTask {
  name: string;
  /** The GLUE task it stands in for. */
  analogue: string;
  /** `single`: one text column; `pair`: two. */
  kind: TaskKind;
  /** 1 for regression. */
  num_labels: number;
  /** Label names by id (empty for regression). */
  label_names: string[];
  /** accuracy (SST-2, MNLI), accuracy + F1 (MRPC), Pearson + Spearman (STS-B). */
  metric: TaskMetric;
  /** TSV text columns, in order, between `id` and `label`. */
  text_columns: string[];
  /** Folder with train.tsv and dev.tsv (absolute). */
  folder: string;
}

/**
 * The tasks that have fine-tuned models, in their canonical order. `data/similarity` (an STS-B-like
 * pair regression) is shipped as data only (`"models": false` in data/tasks.json; see the README).
 */
export const zooTasks: readonly ZooTask[] = [
  {
    name: 'sentiment',
    analogue: 'SST-2',
    kind: 'single',
    num_labels: 2,
    label_names: ['negative', 'positive'],
    metric: 'accuracy',
    text_columns: ['sentence'],
    folder: zooPath('data', 'sentiment'),
  },
  {
    name: 'same-sense',
    analogue: 'MRPC',
    kind: 'pair',
    num_labels: 2,
    label_names: ['different', 'same'],
    metric: 'accuracy_f1',
    text_columns: ['sentence1', 'sentence2'],
    folder: zooPath('data', 'same-sense'),
  },
  {
    name: 'nli',
    analogue: 'MNLI',
    kind: 'pair',
    num_labels: 3,
    label_names: ['entailment', 'neutral', 'contradiction'],
    metric: 'accuracy',
    text_columns: ['sentence1', 'sentence2'],
    folder: zooPath('data', 'nli'),
  },
  {
    name: 'valence',
    analogue: 'STS-B (regression)',
    kind: 'single',
    num_labels: 1,
    label_names: [],
    metric: 'pearson_spearman',
    text_columns: ['sentence'],
    folder: zooPath('data', 'valence'),
  },
];
