/**
 * Runs a large batch as consecutive chunks of at most `maxTokens` tokens (examples x sequence
 * length) and combines the chunks' results exactly: the saved activations of a backward pass grow
 * with the tokens of one run, so chunking bounds the memory of a Fisher without changing it.
 */
import type { Batch, MaskGradients, MaskValues } from '@fmn/core';

export interface Chunk {
  /** index of the chunk's first example in the batch */
  readonly start: number;
  readonly batch: Batch;
}

/** The batch itself when it fits, else slices of floor(maxTokens / seqLen) examples (at least one). */
export function batchChunks(batch: Batch, maxTokens: number): Chunk[] {
  const T = batch.seqLen;
  const per = Math.max(1, Math.floor(maxTokens / T));
  if (batch.size <= per) return [{ start: 0, batch }];
  const chunks: Chunk[] = [];
  for (let s = 0; s < batch.size; s += per) {
    const e = Math.min(batch.size, s + per);
    chunks.push({
      start: s,
      batch: {
        size: e - s,
        seqLen: T,
        inputIds: batch.inputIds.subarray(s * T, e * T),
        attentionMask: batch.attentionMask.subarray(s * T, e * T),
        tokenTypeIds: batch.tokenTypeIds?.subarray(s * T, e * T),
        labels: batch.labels?.subarray(s, e),
      },
    });
  }
  return chunks;
}

/** The chunk's share of per-example masks (head [B*L*H], neuron [B*L*I]); shared masks as they are. */
export function chunkMasks(
  masks: MaskValues | undefined,
  perExample: boolean,
  chunk: Chunk,
  sizes: { head: number; neuron: number },
): MaskValues | undefined {
  if (!masks || !perExample) return masks;
  const { start, batch } = chunk;
  return {
    head: masks.head.subarray(start * sizes.head, (start + batch.size) * sizes.head),
    neuron: masks.neuron.subarray(start * sizes.neuron, (start + batch.size) * sizes.neuron),
  };
}

/**
 * Combines the chunks' mask gradients. `mean` (the batch convention, gradients of the chunk-mean
 * loss): the size-weighted mean, i.e. the gradient of the whole batch's mean loss. `concat` (per
 * example): the chunks' per-example rows one after the other. The loss is the batch mean.
 */
export function combineMaskGradients(
  parts: { size: number; grads: MaskGradients }[],
  how: 'mean' | 'concat',
): MaskGradients {
  if (parts.length === 1) return parts[0].grads;
  const total = parts.reduce((a, p) => a + p.size, 0);
  let loss = 0;
  for (const p of parts) loss += (p.grads.loss * p.size) / total;
  if (how === 'concat') {
    return {
      loss,
      head: concat(parts.map((p) => p.grads.head)),
      neuron: concat(parts.map((p) => p.grads.neuron)),
    };
  }
  const weighted = (pick: (g: MaskGradients) => Float32Array) => {
    const acc = new Float64Array(pick(parts[0].grads).length);
    for (const p of parts) {
      const v = pick(p.grads);
      const w = p.size / total;
      for (let i = 0; i < acc.length; i++) acc[i] += w * v[i];
    }
    return Float32Array.from(acc);
  };
  return { loss, head: weighted((g) => g.head), neuron: weighted((g) => g.neuron) };
}

export function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
