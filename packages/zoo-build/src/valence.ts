import type { Example, TaskSpec, TaskSplits } from './task-spec.js';

/**
 * Task 5: valence (regression). The sentiment task's examples with the same train/dev split and
 * order, labelled with 2.5 + mean AFINN valence / 2 (0..5, the STS-B range; 2.5 = neutral), rounded
 * to 0.01. It adds no text, so the corpus exclusion and the tokenizers do not change.
 */
export function valenceSplits(sentiment: TaskSplits, spec: TaskSpec): TaskSplits {
  const relabel = (e: Example): Example => ({ ...e, label: Math.round((2.5 + e.valence! / 2) * 100) / 100 });
  return { spec, train: sentiment.train.map(relabel), dev: sentiment.dev.map(relabel) };
}
