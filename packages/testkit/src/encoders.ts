import type { Activation, EncoderModel, HeadStep, LayerNorm, Linear, Param, TaskHead } from '@fmn/core';
import { Rng } from './rng.js';

/** The four architecture shapes of METHOD.md section 1, as encoder descriptions. */
export type Flavour = 'bert' | 'roberta' | 'distilbert' | 'electra';
export const FLAVOURS: readonly Flavour[] = ['bert', 'roberta', 'distilbert', 'electra'];

export interface RandomEncoderOptions {
  seed?: number;
  vocabSize?: number;
  hidden?: number;
  numHeads?: number;
  numLayers?: number;
  intermediate?: number;
  maxPositions?: number;
  /** ELECTRA only: embedding width (defaults to hidden / 2, so embeddings_project is present) */
  embeddingSize?: number;
  /** number of labels; 1 = regression; 0 = no head */
  numLabels?: number;
  activation?: Activation;
  /** standard deviation of weights (default 0.2: large enough that gradients are far from zero) */
  std?: number;
}

/**
 * A random encoder description with HuggingFace-like tensor names, for backend tests that need
 * no checkpoint on disk. Deterministic in `seed`.
 */
export function randomEncoder(flavour: Flavour, options: RandomEncoderOptions = {}): EncoderModel {
  const rng = new Rng(options.seed ?? 1);
  const std = options.std ?? 0.2;
  const V = options.vocabSize ?? 40;
  const Hd = options.hidden ?? 16;
  const nH = options.numHeads ?? 4;
  const L = options.numLayers ?? 2;
  const I = options.intermediate ?? 24;
  const P = options.maxPositions ?? 40;
  const E = flavour === 'electra' ? (options.embeddingSize ?? Hd / 2) : Hd;
  const numLabels = options.numLabels ?? 3;
  const activation = options.activation ?? 'gelu';
  const padTokenId = flavour === 'roberta' ? 1 : 0;
  const eps = flavour === 'distilbert' ? 1e-12 : 1e-12;
  const prefix = `${flavour}.`;

  const param = (name: string, shape: number[], kind: 'w' | 'b' | 'ln-w' | 'ln-b' = 'w'): Param => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data =
      kind === 'ln-w'
        ? rng.normals(n, 0.1, 1)
        : kind === 'ln-b' || kind === 'b'
          ? rng.normals(n, 0.1)
          : rng.normals(n, std);
    return { name, shape, data };
  };
  const linear = (name: string, out: number, inp: number): Linear => ({
    weight: param(`${name}.weight`, [out, inp]),
    bias: param(`${name}.bias`, [out], 'b'),
  });
  const norm = (name: string, n: number, e = eps): LayerNorm => ({
    weight: param(`${name}.weight`, [n], 'ln-w'),
    bias: param(`${name}.bias`, [n], 'ln-b'),
    eps: e,
  });

  const distil = flavour === 'distilbert';
  const emb = distil ? `${prefix}embeddings` : `${prefix}embeddings`;
  const embeddings = {
    word: param(`${emb}.word_embeddings.weight`, [V, E]),
    position: param(`${emb}.position_embeddings.weight`, [P, E]),
    tokenType: distil ? undefined : param(`${emb}.token_type_embeddings.weight`, [2, E]),
    norm: norm(`${emb}.LayerNorm`, E),
    project: flavour === 'electra' && E !== Hd ? linear(`${prefix}embeddings_project`, Hd, E) : undefined,
    positionIds:
      flavour === 'roberta'
        ? ({ kind: 'padding-offset', padTokenId } as const)
        : ({ kind: 'absolute' } as const),
  };
  const layers = Array.from({ length: L }, (_, l) => {
    if (distil) {
      const p = `${prefix}transformer.layer.${l}`;
      return {
        query: linear(`${p}.attention.q_lin`, Hd, Hd),
        key: linear(`${p}.attention.k_lin`, Hd, Hd),
        value: linear(`${p}.attention.v_lin`, Hd, Hd),
        attentionOutput: linear(`${p}.attention.out_lin`, Hd, Hd),
        attentionNorm: norm(`${p}.sa_layer_norm`, Hd),
        intermediate: linear(`${p}.ffn.lin1`, I, Hd),
        output: linear(`${p}.ffn.lin2`, Hd, I),
        outputNorm: norm(`${p}.output_layer_norm`, Hd),
      };
    }
    const p = `${prefix}encoder.layer.${l}`;
    return {
      query: linear(`${p}.attention.self.query`, Hd, Hd),
      key: linear(`${p}.attention.self.key`, Hd, Hd),
      value: linear(`${p}.attention.self.value`, Hd, Hd),
      attentionOutput: linear(`${p}.attention.output.dense`, Hd, Hd),
      attentionNorm: norm(`${p}.attention.output.LayerNorm`, Hd),
      intermediate: linear(`${p}.intermediate.dense`, I, Hd),
      output: linear(`${p}.output.dense`, Hd, I),
      outputNorm: norm(`${p}.output.LayerNorm`, Hd),
    };
  });
  let head: TaskHead | undefined;
  if (numLabels > 0) {
    const steps: HeadStep[] =
      flavour === 'bert'
        ? [
            { linear: linear(`${prefix}pooler.dense`, Hd, Hd), activation: 'tanh' },
            { linear: linear('classifier', numLabels, Hd), activation: 'identity' },
          ]
        : flavour === 'distilbert'
          ? [
              { linear: linear('pre_classifier', Hd, Hd), activation: 'relu' },
              { linear: linear('classifier', numLabels, Hd), activation: 'identity' },
            ]
          : [
              {
                linear: linear('classifier.dense', Hd, Hd),
                activation: flavour === 'electra' ? 'gelu' : 'tanh',
              },
              { linear: linear('classifier.out_proj', numLabels, Hd), activation: 'identity' },
            ];
    head = { kind: 'classification', numLabels, steps };
  }
  return {
    modelType: flavour,
    dims: {
      vocabSize: V,
      hidden: Hd,
      embeddingSize: E,
      numLayers: L,
      numHeads: nH,
      headSize: Hd / nH,
      intermediate: I,
      maxPositions: P,
      typeVocabSize: distil ? 0 : 2,
      padTokenId,
    },
    activation,
    embeddings,
    layers,
    head,
  };
}
