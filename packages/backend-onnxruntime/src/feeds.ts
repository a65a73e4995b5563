/** The feeds of a batch for the encoder graphs of @fmn/onnx: token inputs and labels. */
import * as ort from 'onnxruntime-node';
import type { Batch, EncoderModel } from '@fmn/core';

function int64(a: Int32Array): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]);
  return out;
}

/** input_ids, attention_mask and (when the model has token types) token_type_ids [B, T] int64. */
export function textFeeds(model: EncoderModel, batch: Batch): Record<string, ort.Tensor> {
  const dims = [batch.size, batch.seqLen];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', int64(batch.inputIds), dims),
    attention_mask: new ort.Tensor('int64', int64(batch.attentionMask), dims),
  };
  if (model.embeddings.tokenType) {
    const types = batch.tokenTypeIds
      ? int64(batch.tokenTypeIds)
      : new BigInt64Array(batch.size * batch.seqLen);
    feeds.token_type_ids = new ort.Tensor('int64', types, dims);
  }
  return feeds;
}

/** `labels`: one-hot [B, C], or the targets [B, 1] for regression (numLabels == 1). */
export function labelFeed(numLabels: number, batch: Batch): ort.Tensor {
  const B = batch.size;
  const C = numLabels;
  if (C === 1) return new ort.Tensor('float32', Float32Array.from(batch.labels!), [B, 1]);
  const oneHot = new Float32Array(B * C);
  for (let b = 0; b < B; b++) oneHot[b * C + batch.labels![b]] = 1;
  return new ort.Tensor('float32', oneHot, [B, C]);
}
