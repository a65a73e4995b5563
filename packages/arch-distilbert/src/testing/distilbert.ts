/** DistilBERT's fixture, from modeling_distilbert / configuration_distilbert (test only). */
import type { ArchitectureFixture, FixtureDims, FixtureTensor, TensorPart } from '@fmn/core';
import { layerPart, linear, norm, tensor } from '@fmn/arch-bert/testing';

const EMBEDDINGS: TensorPart = { kind: 'embeddings' };
const CLASSIFIER: TensorPart = { kind: 'classifier' };
const PRETRAINING: TensorPart = { kind: 'pretraining-head' };

export const distilbertFixture: ArchitectureFixture = {
  modelType: 'distilbert',
  className: 'DistilBert',
  prefix: 'distilbert.',
  tokenizer: { kind: 'wordpiece', className: 'DistilBertTokenizer' },
  padTokenId: 0,
  positionOffset: 0,
  typeVocabSize: 0,
  layerNormEps: 1e-12,
  headsKey: 'n_heads',
  headActivations: ['relu', 'identity'],
  hasPooler: () => false,
  encoder(d: FixtureDims): FixtureTensor[] {
    const s: FixtureTensor[] = [
      tensor('embeddings.word_embeddings.weight', [d.V, d.E], 'embedding', EMBEDDINGS, d.pad),
      tensor('embeddings.position_embeddings.weight', [d.P, d.E], 'embedding', EMBEDDINGS),
      ...norm('embeddings.LayerNorm', d.E, EMBEDDINGS),
    ];
    for (let l = 0; l < d.L; l++) {
      const q = `transformer.layer.${l}`;
      s.push(
        ...linear(`${q}.attention.q_lin`, d.H, d.H, layerPart(l, 'query')),
        ...linear(`${q}.attention.k_lin`, d.H, d.H, layerPart(l, 'key')),
        ...linear(`${q}.attention.v_lin`, d.H, d.H, layerPart(l, 'value')),
        ...linear(`${q}.attention.out_lin`, d.H, d.H, layerPart(l, 'attention-output')),
        ...norm(`${q}.sa_layer_norm`, d.H, layerPart(l, 'attention-norm')),
        ...linear(`${q}.ffn.lin1`, d.I, d.H, layerPart(l, 'intermediate')),
        ...linear(`${q}.ffn.lin2`, d.H, d.I, layerPart(l, 'output')),
        ...norm(`${q}.output_layer_norm`, d.H, layerPart(l, 'output-norm')),
      );
    }
    return s;
  },
  head: (d, numLabels) => [
    ...linear('pre_classifier', d.H, d.H, CLASSIFIER),
    ...linear('classifier', numLabels, d.H, CLASSIFIER),
  ],
  pretraining: {
    // DistilBertForMaskedLM (vocab_projector.weight is tied, not stored); there is no ForPreTraining.
    'masked-lm': (d) => [
      ...linear('vocab_transform', d.H, d.H, PRETRAINING),
      ...norm('vocab_layer_norm', d.H, PRETRAINING),
      tensor('vocab_projector.bias', [d.V], 'bias', PRETRAINING),
    ],
  },
  config: (d, hiddenAct) => ({
    activation: hiddenAct,
    attention_dropout: 0.1,
    dim: d.H,
    dropout: 0.1,
    hidden_dim: d.I,
    n_heads: d.nH,
    n_layers: d.L,
    qa_dropout: 0.1,
    seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false,
    tie_weights_: true,
  }),
};
