/** RoBERTa's fixture, from modeling_roberta / configuration_roberta (test only). */
import type { ArchitectureFixture, TensorPart } from '@fmn/core';
import { bertLayoutFixture, linear, norm, tensor } from '@fmn/arch-bert/testing';

const PRETRAINING: TensorPart = { kind: 'pretraining-head' };
const PAD = 1;

export const robertaFixture: ArchitectureFixture = bertLayoutFixture({
  modelType: 'roberta',
  className: 'Roberta',
  prefix: 'roberta.',
  tokenizer: { kind: 'byte-level-bpe', className: 'RobertaTokenizer' },
  padTokenId: PAD,
  // position ids start at pad_token_id + 1, so max_position_embeddings = longest input + pad + 1
  positionOffset: PAD + 1,
  positionPaddingIdx: true,
  typeVocabSize: 1,
  layerNormEps: 1e-5,
  headActivations: ['tanh', 'identity'],
  head: 'dense-out-proj',
  // RobertaForSequenceClassification / ForMaskedLM have no pooler; a bare RobertaModel has one.
  hasPooler: (kind, requested) => kind === 'base' && requested,
  pretraining: {
    // RobertaForMaskedLM's lm_head (decoder weight tied, not stored); there is no ForPreTraining.
    'masked-lm': (d) => [
      ...linear('lm_head.dense', d.H, d.H, PRETRAINING),
      ...norm('lm_head.layer_norm', d.H, PRETRAINING),
      tensor('lm_head.bias', [d.V], 'bias', PRETRAINING),
    ],
  },
  extraConfig: () => ({ bos_token_id: 0, eos_token_id: 2 }),
});
