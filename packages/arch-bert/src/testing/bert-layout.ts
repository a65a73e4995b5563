/**
 * An `ArchitectureFixture` for architectures whose layers are named as BERT's (BERT, RoBERTa,
 * ELECTRA, and new ones built the same way): the embeddings, the layers and the two head layouts
 * of modeling_bert / modeling_roberta / modeling_electra (test only).
 */
import type {
  Activation,
  ArchitectureFixture,
  FixtureDims,
  FixtureModelKind,
  FixtureTensor,
  TensorPart,
} from '@fmn/core';
import { bertConfigAttributes, bertLayer, linear, norm, tensor } from './fixture-kit.js';

export interface BertLayoutFixtureSpec {
  readonly modelType: string;
  readonly className: string;
  readonly prefix: string;
  readonly tokenizer: ArchitectureFixture['tokenizer'];
  readonly padTokenId: number;
  /** extra position embeddings beyond the longest input (RoBERTa: pad_token_id + 1); default 0 */
  readonly positionOffset?: number;
  /** RoBERTa: position_embeddings has padding_idx = pad_token_id (its row is zero) */
  readonly positionPaddingIdx?: boolean;
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly headActivations: readonly Activation[];
  /** ELECTRA: the embedding width (embeddings_project maps it to hidden when it differs) */
  readonly embeddingSize?: (hidden: number, requested: number | undefined) => number;
  /** `bert`: `classifier`; `dense-out-proj`: `classifier.dense` -> `classifier.out_proj` */
  readonly head: 'bert' | 'dense-out-proj';
  readonly hasPooler: (kind: FixtureModelKind, requested: boolean) => boolean;
  readonly pretraining: ArchitectureFixture['pretraining'];
  /** config.json attributes beyond BertConfig's */
  readonly extraConfig?: (d: FixtureDims) => Record<string, unknown>;
}

const EMBEDDINGS: TensorPart = { kind: 'embeddings' };
const POOLER: TensorPart = { kind: 'pooler' };
const CLASSIFIER: TensorPart = { kind: 'classifier' };

export function bertLayoutFixture(spec: BertLayoutFixtureSpec): ArchitectureFixture {
  return {
    modelType: spec.modelType,
    className: spec.className,
    prefix: spec.prefix,
    tokenizer: spec.tokenizer,
    padTokenId: spec.padTokenId,
    positionOffset: spec.positionOffset ?? 0,
    typeVocabSize: spec.typeVocabSize,
    layerNormEps: spec.layerNormEps,
    headsKey: 'num_attention_heads',
    headActivations: spec.headActivations,
    ...(spec.embeddingSize ? { embeddingSize: spec.embeddingSize } : {}),
    hasPooler: spec.hasPooler,
    encoder(d: FixtureDims, pooler: boolean): FixtureTensor[] {
      const s: FixtureTensor[] = [
        tensor('embeddings.word_embeddings.weight', [d.V, d.E], 'embedding', EMBEDDINGS, d.pad),
        tensor(
          'embeddings.position_embeddings.weight',
          [d.P, d.E],
          'embedding',
          EMBEDDINGS,
          spec.positionPaddingIdx ? d.pad : undefined,
        ),
        tensor('embeddings.token_type_embeddings.weight', [d.T, d.E], 'embedding', EMBEDDINGS),
        ...norm('embeddings.LayerNorm', d.E, EMBEDDINGS),
      ];
      if (d.E !== d.H) s.push(...linear('embeddings_project', d.H, d.E, EMBEDDINGS));
      for (let l = 0; l < d.L; l++) s.push(...bertLayer(d, l));
      if (pooler) s.push(...linear('pooler.dense', d.H, d.H, POOLER));
      return s;
    },
    head(d: FixtureDims, numLabels: number): FixtureTensor[] {
      if (spec.head === 'bert') return linear('classifier', numLabels, d.H, CLASSIFIER);
      return [
        ...linear('classifier.dense', d.H, d.H, CLASSIFIER),
        ...linear('classifier.out_proj', numLabels, d.H, CLASSIFIER),
      ];
    },
    pretraining: spec.pretraining,
    config(d: FixtureDims, hiddenAct: string): Record<string, unknown> {
      return { ...bertConfigAttributes(d, hiddenAct, spec.layerNormEps), ...spec.extraConfig?.(d) };
    },
  };
}
