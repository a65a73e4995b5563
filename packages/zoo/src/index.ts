/**
 * @fmn/zoo: a mini-GLUE built from WordNet 3.1 and AFINN-165, WordPiece and byte-level BPE
 * tokenizers in HuggingFace layout, and (later) small pre-trained BERT-family checkpoints.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type { TaskKind, TaskMetric, TaskSpec } from './build/tasks.js';

/** Absolute path of the zoo package root (holding data/, tokenizers/, models/); joins `parts`. */
export function zooPath(...parts: string[]): string {
  // this file is src/index.ts (tests, tsx) or dist/index.js (published): the root is one level up
  return join(fileURLToPath(new URL('..', import.meta.url)), ...parts);
}

export interface ZooTask {
  name: string;
  /** The GLUE task it stands in for. */
  analogue: string;
  /** `single`: one text column; `pair`: two. */
  kind: 'single' | 'pair';
  /** 1 for regression. */
  num_labels: number;
  /** Label names by id (empty for regression). */
  label_names: string[];
  /** accuracy (SST-2, MNLI), accuracy + F1 (MRPC), Pearson + Spearman (STS-B). */
  metric: 'accuracy' | 'accuracy_f1' | 'pearson_spearman' | 'matthews';
  /** TSV text columns, in order, between `id` and `label`. */
  text_columns: string[];
  /** Folder with train.tsv and dev.tsv (absolute). */
  folder: string;
}

/**
 * The tasks that have fine-tuned models, in their canonical order. `data/similarity` (an STS-B-like
 * pair regression) is shipped as data only: see `DATA_ONLY` and the README.
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

/** Folders of the HuggingFace tokenizer files: `wordpiece` (BERT, DistilBERT, ELECTRA) and `bpe` (RoBERTa). */
export const zooTokenizers = {
  wordpiece: zooPath('tokenizers', 'wordpiece'),
  bpe: zooPath('tokenizers', 'bpe'),
} as const;

/** The tokenizer folder an architecture uses. */
export function zooTokenizerFor(arch: 'bert' | 'roberta' | 'distilbert' | 'electra'): string {
  return arch === 'roberta' ? zooTokenizers.bpe : zooTokenizers.wordpiece;
}

/** Where `pnpm zoo:data` writes the masked-language-model corpus (generated, not committed). */
export function mlmCorpusPath(): string {
  return zooPath('.cache', 'mlm-corpus.txt');
}

export {
  buildZoo,
  mlmCorpus,
  DATA_ONLY,
  DEFAULT_ZOO_BUILD,
  type ZooBuild,
  type ZooBuildOptions,
} from './build/zoo.js';
export { readWordNet, wordnetDictDir, type WnSynset } from './build/wordnet.js';
export { basicTokenize } from './build/basic.js';
export { trainWordPiece, encodeWordPiece, wordPieceFiles } from './build/wordpiece.js';
export { trainByteBpe, encodeByteBpe, byteBpeFiles, type ByteBpe } from './build/bpe.js';
