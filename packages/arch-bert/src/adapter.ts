import { createBertLikeAdapter } from './bert-like.js';
import { BERT_TOKENIZER } from './tokenizer-conventions.js';

/** BERT (model_type "bert"): the pooler (dense + tanh on token 0) is part of the encoder; head `classifier`. */
export const bertAdapter = createBertLikeAdapter({
  modelType: 'bert',
  className: 'Bert',
  prefix: 'bert.',
  defaults: { padTokenId: 0, layerNormEps: 1e-12 },
  paddingOffsetPositions: false,
  embeddingSizeKey: false,
  head: { kind: 'bert' },
  basePooler: true,
  tokenizer: BERT_TOKENIZER,
  fixture: () => import('./testing/bert.js').then((m) => m.bertFixture),
});
