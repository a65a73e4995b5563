/**
 * The encoder description: an architecture-independent view of a BERT-family encoder with its
 * task head, enough to express BERT, RoBERTa, DistilBERT and ELECTRA (METHOD.md section 1).
 * Adapters build it from a HuggingFace checkpoint; backends run it. Every tensor keeps its
 * HuggingFace name, so results per parameter (full Fisher, merges) map straight back.
 */

/** Activations. `gelu` is the exact erf form; `gelu_new` the tanh approximation. */
export type Activation = 'gelu' | 'gelu_new' | 'relu' | 'tanh' | 'identity';

export const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'relu', 'tanh', 'identity'];

/** A parameter tensor (float32, row-major) under its HuggingFace name. */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  data: Float32Array;
  /** dtype in the source checkpoint, so a round trip can write the same bytes back. */
  readonly sourceDType?: import('./tensor.js').DType;
}

/** A linear layer in HuggingFace layout: weight [out, in], y = x W^T + b. */
export interface Linear {
  readonly weight: Param;
  readonly bias?: Param;
}

export interface LayerNorm {
  readonly weight: Param;
  readonly bias: Param;
  readonly eps: number;
}

/**
 * How position ids are formed: `absolute` = 0..T-1; `padding-offset` = RoBERTa's
 * cumsum(ids != pad) * (ids != pad) + pad.
 */
export type PositionIds =
  { readonly kind: 'absolute' } | { readonly kind: 'padding-offset'; readonly padTokenId: number };

export interface Embeddings {
  /** [vocab, E] */
  readonly word: Param;
  /** [maxPositions, E] */
  readonly position: Param;
  /** [typeVocab, E]; absent for DistilBERT. Token type ids default to 0. */
  readonly tokenType?: Param;
  readonly norm: LayerNorm;
  /** ELECTRA's embeddings_project (E -> hidden) when E != hidden. */
  readonly project?: Linear;
  readonly positionIds: PositionIds;
}

/** One post-norm transformer layer. */
export interface EncoderLayer {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  /** attention output projection (hidden -> hidden) */
  readonly attentionOutput: Linear;
  readonly attentionNorm: LayerNorm;
  /** FFN first linear (hidden -> I) */
  readonly intermediate: Linear;
  /** FFN second linear (I -> hidden) */
  readonly output: Linear;
  readonly outputNorm: LayerNorm;
}

export interface HeadStep {
  readonly linear: Linear;
  readonly activation: Activation;
}

/**
 * Sequence classification on the first token: steps applied in order (the last one's activation
 * is `identity`). BERT: [pooler.dense tanh, classifier]; RoBERTa: [classifier.dense tanh,
 * classifier.out_proj]; ELECTRA: [classifier.dense gelu, classifier.out_proj]; DistilBERT:
 * [pre_classifier relu, classifier]. numLabels == 1 means regression (MSE loss).
 */
export interface ClassificationHead {
  readonly kind: 'classification';
  readonly numLabels: number;
  readonly steps: readonly HeadStep[];
}

/**
 * Masked language modelling head (used to pre-train the testbed's models): transform -> act ->
 * LayerNorm -> decoder (often tied to the word embeddings) + bias, over every position.
 */
export interface MaskedLmHead {
  readonly kind: 'masked-lm';
  readonly transform: Linear;
  readonly activation: Activation;
  readonly norm: LayerNorm;
  /** [vocab, E] weight, possibly the same Param object as embeddings.word (tied) */
  readonly decoder: Param;
  readonly decoderBias: Param;
}

export type TaskHead = ClassificationHead | MaskedLmHead;

export interface EncoderDims {
  readonly vocabSize: number;
  readonly hidden: number;
  /** embedding width E (== hidden except ELECTRA with embedding_size) */
  readonly embeddingSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headSize: number;
  readonly intermediate: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly padTokenId: number;
}

export interface EncoderModel {
  /** HuggingFace model_type ("bert", "roberta", ...) */
  readonly modelType: string;
  readonly dims: EncoderDims;
  /** FFN activation */
  readonly activation: Activation;
  readonly embeddings: Embeddings;
  readonly layers: readonly EncoderLayer[];
  /** absent for a bare base model */
  readonly head?: TaskHead;
  /**
   * Tensors of the base model that this model does not run but that belong to it, kept under
   * their HuggingFace names so they are merged (by their adapter role) and written back: e.g. the
   * pooler of a bare BertModel / RobertaModel checkpoint (for BERT it becomes the first head step
   * once a classifier is added). Backends ignore them; they are not in encoderParams.
   */
  readonly extras?: readonly Param[];
}

/** The mask nodes' layout (METHOD.md section 2): head mask [L, H], neuron mask [L, I]. */
export interface MaskLayout {
  readonly layers: number;
  readonly heads: number;
  readonly headSize: number;
  readonly intermediate: number;
}

export function maskLayoutOf(model: EncoderModel): MaskLayout {
  return {
    layers: model.dims.numLayers,
    heads: model.dims.numHeads,
    headSize: model.dims.headSize,
    intermediate: model.dims.intermediate,
  };
}

function linearParams(l: Linear | undefined): Param[] {
  return l ? (l.bias ? [l.weight, l.bias] : [l.weight]) : [];
}

function normParams(n: LayerNorm): Param[] {
  return [n.weight, n.bias];
}

/** Every distinct parameter of the model, in a stable order (tied tensors once). */
export function encoderParams(model: EncoderModel): Param[] {
  const e = model.embeddings;
  const out: Param[] = [e.word, e.position];
  if (e.tokenType) out.push(e.tokenType);
  out.push(...normParams(e.norm), ...linearParams(e.project));
  for (const l of model.layers) {
    out.push(
      ...linearParams(l.query),
      ...linearParams(l.key),
      ...linearParams(l.value),
      ...linearParams(l.attentionOutput),
      ...normParams(l.attentionNorm),
      ...linearParams(l.intermediate),
      ...linearParams(l.output),
      ...normParams(l.outputNorm),
    );
  }
  const h = model.head;
  if (h?.kind === 'classification') for (const s of h.steps) out.push(...linearParams(s.linear));
  if (h?.kind === 'masked-lm') {
    out.push(...linearParams(h.transform), ...normParams(h.norm), h.decoder, h.decoderBias);
  }
  const seen = new Set<Param>();
  return out.filter((p) => (seen.has(p) ? false : (seen.add(p), true)));
}
