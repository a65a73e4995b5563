/** What a zoo model folder carries of its tokenizer, per tokenizer kind (@fmn/zoo's tokenizers/). */
import type { ZooTokenizerKind } from '@fmn/zoo';

export interface ModelTokenizer {
  /**
   * Files copied into every model folder: the vocabulary files, not tokenizer.json (the same
   * tokenizer, 4-6x larger), which keeps the zoo under 40 MB.
   */
  files: readonly string[];
  /** The token masked-LM pre-training predicts. */
  maskToken: string;
  padTokenId: number;
}

export const MODEL_TOKENIZER: Readonly<Record<ZooTokenizerKind, ModelTokenizer>> = {
  wordpiece: {
    files: ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'],
    maskToken: '[MASK]',
    padTokenId: 0,
  },
  bpe: {
    files: ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt'],
    maskToken: '<mask>',
    padTokenId: 1,
  },
};
