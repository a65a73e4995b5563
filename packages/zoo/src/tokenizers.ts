/** The zoo's two HuggingFace tokenizers (tokenizers/wordpiece, tokenizers/bpe). */
import { zooPath } from './paths.js';
import type { ZooArch } from './models.js';

/** Folders of the HuggingFace tokenizer files: `wordpiece` (BERT, DistilBERT, ELECTRA) and `bpe` (RoBERTa). */
export const zooTokenizers = {
  wordpiece: zooPath('tokenizers', 'wordpiece'),
  bpe: zooPath('tokenizers', 'bpe'),
} as const;

export type ZooTokenizerKind = keyof typeof zooTokenizers;

/** Which tokenizer an architecture's models use. */
export function zooTokenizerKind(arch: ZooArch): ZooTokenizerKind {
  return arch === 'roberta' ? 'bpe' : 'wordpiece';
}

/** The tokenizer folder an architecture uses. */
export function zooTokenizerFor(arch: ZooArch): string {
  return zooTokenizers[zooTokenizerKind(arch)];
}
