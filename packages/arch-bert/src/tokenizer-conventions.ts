/**
 * Tokenizer conventions of the BERT family, for adapters to declare (`ArchitectureAdapter.tokenizer`):
 * the special-token template, the special tokens' default strings, the vocabulary files and
 * whether the model takes token type ids.
 */
import type { HfConfig, SpecialTokenStrings, TokenizerConventions } from '@fmn/core';

/** BERT's WordPiece special tokens (BertTokenizer defaults). */
export const WORDPIECE_SPECIAL_TOKENS: SpecialTokenStrings = {
  cls: '[CLS]',
  sep: '[SEP]',
  pad: '[PAD]',
  unk: '[UNK]',
  mask: '[MASK]',
};

export interface TokenizerConventionsSpec {
  readonly template: TokenizerConventions['template'];
  readonly specialTokens: SpecialTokenStrings;
  readonly files: readonly string[];
  /**
   * The config class's type_vocab_size default (a config.json may omit it); token type ids are
   * used when the type vocabulary has more than one entry. `none`: the model takes none at all.
   */
  readonly typeVocabSize: number | 'none';
}

/** Tokenizer conventions from a spec. */
export function tokenizerConventions(spec: TokenizerConventionsSpec): TokenizerConventions {
  const { typeVocabSize } = spec;
  return {
    template: spec.template,
    specialTokens: spec.specialTokens,
    files: spec.files,
    usesTokenTypes(config: HfConfig): boolean {
      if (typeVocabSize === 'none') return false;
      const n = typeof config.type_vocab_size === 'number' ? config.type_vocab_size : typeVocabSize;
      return n > 1;
    },
  };
}

/** BERT's: `[CLS] a [SEP] b [SEP]` with token types 0 / 1, vocab.txt, type_vocab_size default 2. */
export const BERT_TOKENIZER: TokenizerConventions = tokenizerConventions({
  template: 'bert',
  specialTokens: WORDPIECE_SPECIAL_TOKENS,
  files: ['vocab.txt'],
  typeVocabSize: 2,
});
