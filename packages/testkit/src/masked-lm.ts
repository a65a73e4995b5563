/**
 * Masked-LM fixtures and their float64 reference: a random encoder with a masked-LM head whose
 * decoder is tied to the word embeddings (as HuggingFace's *ForMaskedLM), batches with token
 * labels, and the mean cross-entropy over the labelled tokens (transform -> activation ->
 * LayerNorm -> decoder + bias on the reference encoder's hidden states). Also the training loss
 * of either head and its central finite differences, the reference for trainers' gradients.
 */
import type { Batch, EncoderModel, Param } from '@fmn/core';
import { randomBatch } from './batches.js';
import { activate, centralDifference, referenceHidden, referenceLoss } from './reference.js';
import { Rng } from './rng.js';

/** A training batch (core's TrainBatch): a Batch with optional token labels [B*T], -100 ignored. */
export type TokenLabelledBatch = Batch & { readonly tokenLabels?: Int32Array };

/**
 * The model's encoder with a fresh masked-LM head (seeded): transform [E, hidden] with the model's
 * FFN activation, LayerNorm over E, decoder = the word embeddings (the same Param), bias [vocab].
 * Names follow BertForMaskedLM.
 */
export function withMaskedLmHead(model: EncoderModel, seed: number): EncoderModel {
  const rng = new Rng(seed);
  const { hidden: H, embeddingSize: E, vocabSize: V } = model.dims;
  const P = (name: string, shape: number[], std: number, mean = 0): Param => ({
    name,
    shape,
    data: rng.normals(
      shape.reduce((a, b) => a * b, 1),
      std,
      mean,
    ),
  });
  return {
    ...model,
    head: {
      kind: 'masked-lm',
      transform: {
        weight: P('cls.predictions.transform.dense.weight', [E, H], 0.2),
        bias: P('cls.predictions.transform.dense.bias', [E], 0.1),
      },
      activation: model.activation,
      norm: {
        weight: P('cls.predictions.transform.LayerNorm.weight', [E], 0.1, 1),
        bias: P('cls.predictions.transform.LayerNorm.bias', [E], 0.1),
        eps: 1e-12,
      },
      decoder: model.embeddings.word,
      decoderBias: P('cls.predictions.bias', [V], 0.1),
    },
  };
}

/**
 * A random batch whose real tokens are each selected with probability `rate` (default 0.4): the
 * label is the original id and the input becomes `maskId` (default 3). At least one token is
 * selected.
 */
export function maskedLmBatch(
  model: EncoderModel,
  options: { seed?: number; size?: number; seqLen?: number; rate?: number; maskId?: number } = {},
): TokenLabelledBatch {
  const b = randomBatch(model, { seed: options.seed, size: options.size ?? 3, seqLen: options.seqLen ?? 7 });
  const rng = new Rng((options.seed ?? 7) + 1000);
  const tokenLabels = new Int32Array(b.size * b.seqLen).fill(-100);
  const ids = Int32Array.from(b.inputIds);
  const pick = (i: number) => {
    tokenLabels[i] = ids[i];
    ids[i] = options.maskId ?? 3;
  };
  for (let i = 0; i < ids.length; i++) if (b.attentionMask[i] && rng.next() < (options.rate ?? 0.4)) pick(i);
  if (!tokenLabels.some((y) => y !== -100)) pick(0);
  return { ...b, inputIds: ids, labels: undefined, tokenLabels };
}

/** float64 masked-LM loss: mean cross-entropy over the tokens whose label is not -100. */
export function referenceMaskedLmLoss(model: EncoderModel, batch: TokenLabelledBatch): number {
  const head = model.head;
  if (head?.kind !== 'masked-lm') throw new Error('referenceMaskedLmLoss needs a masked-lm head');
  const { hidden: H, embeddingSize: E, vocabSize: V } = model.dims;
  let sum = 0;
  let count = 0;
  for (let b = 0; b < batch.size; b++) {
    const hs = referenceHidden(model, batch, b);
    hs.forEach((x, t) => {
      const y = batch.tokenLabels![b * batch.seqLen + t];
      if (y === -100) return;
      const z = Array.from({ length: E }, (_, o) => {
        let s = head.transform.bias!.data[o];
        for (let i = 0; i < H; i++) s += head.transform.weight.data[o * H + i] * x[i];
        return activate(s, head.activation);
      });
      const mean = z.reduce((a, v) => a + v, 0) / E;
      const variance = z.reduce((a, v) => a + (v - mean) ** 2, 0) / E;
      const n = z.map(
        (v, i) =>
          ((v - mean) / Math.sqrt(variance + head.norm.eps)) * head.norm.weight.data[i] +
          head.norm.bias.data[i],
      );
      const logits = Array.from({ length: V }, (_, v) => {
        let s = head.decoderBias.data[v];
        for (let i = 0; i < E; i++) s += head.decoder.data[v * E + i] * n[i];
        return s;
      });
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((a, v) => a + Math.exp(v - max), 0));
      sum += lse - logits[y];
      count++;
    });
  }
  return count === 0 ? 0 : sum / count;
}

/** The training loss of either head in float64: classification (referenceLoss) or masked-LM. */
export function referenceTrainLoss(model: EncoderModel, batch: TokenLabelledBatch): number {
  return model.head?.kind === 'masked-lm' ? referenceMaskedLmLoss(model, batch) : referenceLoss(model, batch);
}

/**
 * Central finite difference of referenceTrainLoss w.r.t. one entry of one parameter (the float32
 * entry is perturbed by `step` and restored exactly; the difference uses the steps actually taken).
 */
export function referenceTrainGradient(
  model: EncoderModel,
  batch: TokenLabelledBatch,
  param: { data: Float32Array },
  index: number,
  step = 1e-3,
): number {
  return centralDifference(() => referenceTrainLoss(model, batch), param, index, step);
}
