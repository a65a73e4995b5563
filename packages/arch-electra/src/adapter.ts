import { BERT_TOKENIZER, createBertLikeAdapter } from '@fmn/arch-bert';

/**
 * ELECTRA (model_type "electra"): BERT's layers; embeddings (and their LayerNorm) at
 * `embedding_size` (ElectraConfig default 128), then `embeddings_project` (Linear E -> hidden) when
 * it differs from hidden_size; no pooler; head `classifier.dense` -> gelu -> `classifier.out_proj`.
 * Its tokenizer is BERT's (WordPiece, token types).
 */
export const electraAdapter = createBertLikeAdapter({
  modelType: 'electra',
  className: 'Electra',
  prefix: 'electra.',
  defaults: { padTokenId: 0, layerNormEps: 1e-12, embeddingSize: 128 },
  paddingOffsetPositions: false,
  embeddingSizeKey: true,
  head: { kind: 'dense-out-proj', activation: 'gelu' },
  basePooler: false,
  tokenizer: BERT_TOKENIZER,
  fixture: () => import('./testing/electra.js').then((m) => m.electraFixture),
});
