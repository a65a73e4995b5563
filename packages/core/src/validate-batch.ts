/**
 * The input contract of every backend for a batch (core's `Batch` against the model it runs):
 * one implementation and one set of messages, so every backend rejects the same bad input with the
 * same FmnError before it computes anything.
 */
import type { Batch } from './backend.js';
import type { EncoderModel } from './encoder.js';
import { FmnError } from './errors.js';

export interface BatchRequirements {
  /** the call computes a loss: the batch needs one label per example that fits the classification head */
  readonly labels?: boolean;
}

function bad(message: string): never {
  throw new FmnError(`invalid batch: ${message}`);
}

function checkArray(name: string, a: unknown, type: 'Int32Array' | 'Float32Array', length: number): void {
  const ok = type === 'Int32Array' ? a instanceof Int32Array : a instanceof Float32Array;
  if (!ok) {
    const got = a === null || typeof a !== 'object' ? typeof a : (a.constructor?.name ?? 'object');
    bad(`${name} must be ${type === 'Int32Array' ? 'an' : 'a'} ${type}, got ${got}`);
  }
  const n = (a as Int32Array | Float32Array).length;
  if (n !== length) bad(`${name} holds ${n} values, expected ${length}`);
}

/**
 * Checks a batch against the model: positive integer size and sequence length; inputIds,
 * attentionMask (and tokenTypeIds when given) Int32Arrays of size x seqLen; token ids inside the
 * vocabulary; attention mask values 0 or 1; token type ids inside the type vocabulary (only 0 for
 * a model without token types); seqLen at most maxPositions and, for RoBERTa's padding offset,
 * every example's real tokens + pad id below maxPositions; and, with
 * `labels`, a classification head and a Float32Array of one label per example: a class index
 * below numLabels, or a finite target for regression (numLabels 1). Throws an FmnError naming the
 * first problem, each message starting `invalid batch:`.
 */
export function validateBatch(model: EncoderModel, batch: Batch, requirements: BatchRequirements = {}): void {
  const { size: B, seqLen: T } = batch;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1)
    bad(`size ${B} x seqLen ${T} (both must be positive integers)`);
  const n = B * T;
  checkArray('inputIds', batch.inputIds, 'Int32Array', n);
  checkArray('attentionMask', batch.attentionMask, 'Int32Array', n);
  if (batch.tokenTypeIds !== undefined) checkArray('tokenTypeIds', batch.tokenTypeIds, 'Int32Array', n);
  const V = model.dims.vocabSize;
  const typeVocab = model.embeddings.tokenType?.shape[0];
  for (let i = 0; i < n; i++) {
    const id = batch.inputIds[i];
    if (!(id >= 0 && id < V)) bad(`token id ${id} at position ${i} is outside the vocabulary (size ${V})`);
    const m = batch.attentionMask[i];
    if (m !== 0 && m !== 1) bad(`attention mask value ${m} at position ${i} (must be 0 or 1)`);
    const t = batch.tokenTypeIds?.[i] ?? 0;
    if (t !== 0) {
      if (typeVocab === undefined) bad(`token type id ${t} at position ${i}: the model has no token types`);
      if (!(t > 0 && t < typeVocab))
        bad(`token type id ${t} at position ${i} is outside the type vocabulary (size ${typeVocab})`);
    }
  }
  const P = model.dims.maxPositions;
  const pos = model.embeddings.positionIds;
  if (T > P) bad(`sequence length ${T} exceeds the model's ${P} positions`);
  if (pos.kind === 'padding-offset') {
    // RoBERTa: the last real token's position id is (number of non-pad tokens) + pad
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let t = 0; t < T; t++) if (batch.inputIds[b * T + t] !== pos.padTokenId) c++;
      if (c + pos.padTokenId >= P)
        bad(
          `example ${b} has ${c} tokens: position ids go up to ${c + pos.padTokenId}, the model has ${P} positions`,
        );
    }
  }
  if (requirements.labels) {
    const head = model.head;
    if (head?.kind !== 'classification') throw new FmnError('the model has no classification head');
    if (batch.labels === undefined) bad(`the loss needs ${B} labels, got none`);
    checkArray('labels', batch.labels, 'Float32Array', B);
    const C = head.numLabels;
    batch.labels.forEach((y, b) => {
      if (C > 1 && !(Number.isInteger(y) && y >= 0 && y < C))
        bad(`label ${y} is not a class index in 0..${C - 1} (example ${b})`);
      if (C === 1 && !Number.isFinite(y)) bad(`label ${y} is not a finite regression target (example ${b})`);
    });
  }
}
