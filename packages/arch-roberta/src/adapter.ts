import { createBertLikeAdapter } from '@fmn/arch-bert';
import { ROBERTA_TOKENIZER } from './tokenizer.js';

/**
 * RoBERTa (model_type "roberta"): BERT's layers; position ids = cumsum(ids != pad) * (ids != pad)
 * + pad_token_id (RobertaConfig default 1); head `classifier.dense` -> tanh -> `classifier.out_proj`
 * (RobertaForSequenceClassification has no pooler; a bare RobertaModel has one, kept as extras).
 */
export const robertaAdapter = createBertLikeAdapter({
  modelType: 'roberta',
  className: 'Roberta',
  prefix: 'roberta.',
  defaults: { padTokenId: 1, layerNormEps: 1e-12 },
  paddingOffsetPositions: true,
  embeddingSizeKey: false,
  head: { kind: 'dense-out-proj', activation: 'tanh' },
  basePooler: true,
  tokenizer: ROBERTA_TOKENIZER,
  fixture: () => import('./testing/roberta.js').then((m) => m.robertaFixture),
});
