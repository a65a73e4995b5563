import type { SpecialTokenStrings, TokenizerConventions } from '@fmn/core';
import { tokenizerConventions } from '@fmn/arch-bert';

/** RoBERTa's byte-level BPE special tokens (RobertaTokenizer defaults). */
export const BPE_SPECIAL_TOKENS: SpecialTokenStrings = {
  cls: '<s>',
  sep: '</s>',
  pad: '<pad>',
  unk: '<unk>',
  mask: '<mask>',
};

/** RoBERTa's: `<s> a </s></s> b </s>`, all of token type 0; vocab.json + merges.txt; type_vocab_size default 1. */
export const ROBERTA_TOKENIZER: TokenizerConventions = tokenizerConventions({
  template: 'roberta',
  specialTokens: BPE_SPECIAL_TOKENS,
  files: ['vocab.json', 'merges.txt'],
  typeVocabSize: 1,
});
