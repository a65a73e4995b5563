/** BERT's fixture, from modeling_bert / configuration_bert (test only). */
import type { ArchitectureFixture, FixtureDims, TensorPart } from '@fmn/core';
import { bertLayoutFixture } from './bert-layout.js';
import { linear, norm, tensor } from './fixture-kit.js';

const PRETRAINING: TensorPart = { kind: 'pretraining-head' };

/** BertForMaskedLM's `cls.predictions` (the tied decoder weight is not stored). */
function maskedLm(d: FixtureDims) {
  return [
    ...linear('cls.predictions.transform.dense', d.H, d.H, PRETRAINING),
    ...norm('cls.predictions.transform.LayerNorm', d.H, PRETRAINING),
    tensor('cls.predictions.bias', [d.V], 'bias', PRETRAINING),
  ];
}

export const bertFixture: ArchitectureFixture = bertLayoutFixture({
  modelType: 'bert',
  className: 'Bert',
  prefix: 'bert.',
  tokenizer: { kind: 'wordpiece', className: 'BertTokenizer' },
  padTokenId: 0,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  headActivations: ['tanh', 'identity'],
  head: 'bert',
  // BertForSequenceClassification and BertForPreTraining have the pooler, BertForMaskedLM has
  // none, a bare BertModel has it unless add_pooling_layer=False.
  hasPooler: (kind, requested) => (kind === 'masked-lm' ? false : kind === 'base' ? requested : true),
  pretraining: {
    'masked-lm': maskedLm,
    pretraining: (d) => [...maskedLm(d), ...linear('cls.seq_relationship', 2, d.H, PRETRAINING)],
  },
});
