/** ELECTRA's fixture, from modeling_electra / configuration_electra (test only). */
import type { ArchitectureFixture, TensorPart } from '@fmn/core';
import { bertLayoutFixture, linear, norm, tensor } from '@fmn/arch-bert/testing';

const PRETRAINING: TensorPart = { kind: 'pretraining-head' };

export const electraFixture: ArchitectureFixture = bertLayoutFixture({
  modelType: 'electra',
  className: 'Electra',
  prefix: 'electra.',
  tokenizer: { kind: 'wordpiece', className: 'ElectraTokenizer' },
  padTokenId: 0,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  headActivations: ['gelu', 'identity'],
  head: 'dense-out-proj',
  // default hidden / 2, so that embeddings_project exists
  embeddingSize: (hidden, requested) => requested ?? hidden / 2,
  hasPooler: () => false,
  pretraining: {
    // ElectraForMaskedLM: the generator's head at embedding_size (decoder weight tied, not stored)
    'masked-lm': (d) => [
      ...linear('generator_predictions.dense', d.E, d.H, PRETRAINING),
      ...norm('generator_predictions.LayerNorm', d.E, PRETRAINING),
      tensor('generator_lm_head.bias', [d.V], 'bias', PRETRAINING),
    ],
    // ElectraForPreTraining: the discriminator's head
    pretraining: (d) => [
      ...linear('discriminator_predictions.dense', d.H, d.H, PRETRAINING),
      ...linear('discriminator_predictions.dense_prediction', 1, d.H, PRETRAINING),
    ],
  },
  extraConfig: (d) => ({
    embedding_size: d.E,
    summary_activation: 'gelu',
    summary_last_dropout: 0.1,
    summary_type: 'first',
    summary_use_proj: true,
  }),
});
