import type { Batch, EncoderModel } from '@fmn/core';
import { Rng } from './rng.js';

export interface RandomBatchOptions {
  seed?: number;
  size?: number;
  seqLen?: number;
  /** give examples different lengths (the rest is padding); default true */
  ragged?: boolean;
  /** include token type ids (second half of each sequence is type 1) when the model has them */
  tokenTypes?: boolean;
}

/** A random padded batch for a model: ids avoid the pad token; labels fit the head. */
export function randomBatch(model: EncoderModel, options: RandomBatchOptions = {}): Batch {
  const rng = new Rng(options.seed ?? 7);
  const B = options.size ?? 3;
  const T = options.seqLen ?? 7;
  const pad = model.dims.padTokenId;
  const inputIds = new Int32Array(B * T).fill(pad);
  const attentionMask = new Int32Array(B * T);
  const useTypes = (options.tokenTypes ?? true) && model.embeddings.tokenType !== undefined;
  const tokenTypeIds = useTypes ? new Int32Array(B * T) : undefined;
  const labels = new Float32Array(B);
  const numLabels = model.head?.kind === 'classification' ? model.head.numLabels : 2;
  for (let b = 0; b < B; b++) {
    const len = options.ragged === false ? T : Math.max(2, T - rng.int(Math.ceil(T / 2)));
    for (let t = 0; t < len; t++) {
      let id = rng.int(model.dims.vocabSize);
      if (id === pad) id = (id + 2) % model.dims.vocabSize;
      inputIds[b * T + t] = id;
      attentionMask[b * T + t] = 1;
      if (tokenTypeIds && t >= len / 2) tokenTypeIds[b * T + t] = 1;
    }
    labels[b] = numLabels === 1 ? rng.normal() : rng.int(numLabels);
  }
  return { size: B, seqLen: T, inputIds, attentionMask, tokenTypeIds, labels };
}

/** The batch with `extra` more padding positions at the end of every sequence. */
export function padBatch(batch: Batch, extra: number, padTokenId: number): Batch {
  const { size: B, seqLen: T } = batch;
  const T2 = T + extra;
  const ids = new Int32Array(B * T2).fill(padTokenId);
  const mask = new Int32Array(B * T2);
  const types = batch.tokenTypeIds ? new Int32Array(B * T2) : undefined;
  for (let b = 0; b < B; b++) {
    ids.set(batch.inputIds.subarray(b * T, b * T + T), b * T2);
    mask.set(batch.attentionMask.subarray(b * T, b * T + T), b * T2);
    types?.set(batch.tokenTypeIds!.subarray(b * T, b * T + T), b * T2);
  }
  return {
    size: B,
    seqLen: T2,
    inputIds: ids,
    attentionMask: mask,
    tokenTypeIds: types,
    labels: batch.labels,
  };
}

/** Example `i` of a batch as a batch of one (same padding). */
export function sliceBatch(batch: Batch, i: number): Batch {
  const T = batch.seqLen;
  return {
    size: 1,
    seqLen: T,
    inputIds: batch.inputIds.slice(i * T, i * T + T),
    attentionMask: batch.attentionMask.slice(i * T, i * T + T),
    tokenTypeIds: batch.tokenTypeIds?.slice(i * T, i * T + T),
    labels: batch.labels?.slice(i, i + 1),
  };
}
