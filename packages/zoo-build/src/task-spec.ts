/**
 * What the zoo's build makes of each task: its spec (columns, labels, metric), the examples
 * before and after the train/dev split, and the build options shared by every task builder.
 */
import type { ZooTaskSpec } from '@fmn/zoo';

/** A task's spec: what data/tasks.json records of it, less what the build measures (sizes, baseline). */
export type TaskSpec = ZooTaskSpec;

export const TASK_SPECS: readonly TaskSpec[] = [
  {
    name: 'sentiment',
    analogue: 'SST-2',
    kind: 'single',
    textColumns: ['sentence'],
    labels: ['negative', 'positive'],
    numLabels: 2,
    metric: 'accuracy',
  },
  {
    name: 'same-sense',
    analogue: 'MRPC',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: ['different', 'same'],
    numLabels: 2,
    metric: 'accuracy_f1',
  },
  {
    name: 'nli',
    analogue: 'MNLI',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: ['entailment', 'neutral', 'contradiction'],
    numLabels: 3,
    metric: 'accuracy',
  },
  {
    name: 'valence',
    analogue: 'STS-B (regression; SST-5-like intensity)',
    kind: 'single',
    textColumns: ['sentence'],
    labels: [],
    numLabels: 1,
    metric: 'pearson_spearman',
  },
  {
    name: 'similarity',
    analogue: 'STS-B',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: [],
    numLabels: 1,
    metric: 'pearson_spearman',
  },
];

/** One example before splitting. `label` is a class index, or a score for regression. */
export interface Example {
  texts: string[];
  label: number;
  /** Split unit: every example with the same group lands in the same split. */
  group: string;
  /** WordNet source strings (definitions, examples) this example shows, for corpus exclusion. */
  sources: string[];
  /** sentiment only: the mean AFINN-165 valence of the synset's AFINN lemmas (-5..5) */
  valence?: number;
}

export interface TaskSplits {
  spec: TaskSpec;
  train: Example[];
  dev: Example[];
}

export interface BuildOptions {
  seed: string;
  /** Fraction of groups that go to dev before balancing. */
  devFraction: number;
  maxTrain: number;
  maxDev: number;
  /** Longest text kept, in basic-tokenizer words. */
  maxWords: number;
}

export const DEFAULT_BUILD: BuildOptions = {
  seed: 'fmn-zoo-1',
  devFraction: 0.14,
  maxTrain: 4000,
  maxDev: 600,
  maxWords: 28,
};
