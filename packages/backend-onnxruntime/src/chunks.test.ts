/**
 * A batch run in chunks (maxRunTokens smaller than the batch) gives the values of the whole batch:
 * checked against the float64 reference of testkit (not against the unchunked run), and the
 * chunking itself on hand-made batches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Batch, ModelSession } from '@fmn/core';
import {
  expectClose,
  randomBatch,
  randomEncoder,
  referenceLogits,
  referenceLoss,
  referenceMaskGradients,
  sliceBatch,
} from '@fmn/testkit';
import { batchChunks, combineMaskGradients } from './chunks.js';
import { OnnxRuntimeBackend } from './session.js';

describe('batchChunks / combineMaskGradients', () => {
  const batch: Batch = {
    size: 5,
    seqLen: 2,
    inputIds: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    attentionMask: new Int32Array(10).fill(1),
    labels: Float32Array.from([0, 1, 0, 1, 1]),
  };
  it('keeps a batch that fits, else cuts floor(maxTokens / seqLen) examples per chunk', () => {
    expect(batchChunks(batch, 10)).toEqual([{ start: 0, batch }]);
    const c = batchChunks(batch, 5); // 2 examples per chunk: 2 + 2 + 1
    expect(c.map((x) => [x.start, x.batch.size])).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ]);
    expect(Array.from(c[1].batch.inputIds)).toEqual([5, 6, 7, 8]);
    expect(Array.from(c[2].batch.labels!)).toEqual([1]);
    // a sequence longer than the budget still runs, one example at a time
    expect(batchChunks(batch, 1)).toHaveLength(5);
  });
  it('recombines the batch mean as the size-weighted mean, per-example rows by concatenation', () => {
    const a = { loss: 1, head: Float32Array.from([2]), neuron: Float32Array.from([4]) };
    const b = { loss: 4, head: Float32Array.from([8]), neuron: Float32Array.from([1]) };
    // sizes 3 and 1: (3*2 + 1*8) / 4 = 3.5, (3*4 + 1*1) / 4 = 3.25, loss (3 + 4) / 4
    const m = combineMaskGradients(
      [
        { size: 3, grads: a },
        { size: 1, grads: b },
      ],
      'mean',
    );
    expect([m.loss, m.head[0], m.neuron[0]]).toEqual([1.75, 3.5, 3.25]);
    const c = combineMaskGradients(
      [
        { size: 3, grads: a },
        { size: 1, grads: b },
      ],
      'concat',
    );
    expect([Array.from(c.head), Array.from(c.neuron)]).toEqual([
      [2, 8],
      [4, 1],
    ]);
  });
});

describe('a session with maxRunTokens below the batch agrees with the float64 reference', () => {
  const model = randomEncoder('bert', { seed: 21, numLayers: 2, hidden: 16, numHeads: 2, intermediate: 24 });
  // 5 ragged examples of 6 tokens, run 2 examples (12 tokens) at a time
  const batch = randomBatch(model, { seed: 3, size: 5, seqLen: 6 });
  let session: ModelSession;
  afterAll(async () => session?.dispose());

  it('logits, loss, and mask gradients of both conventions', async () => {
    session = await new OnnxRuntimeBackend({ intraOpNumThreads: 1, maxRunTokens: 13 }).load(model);
    expectClose(await session.logits(batch), referenceLogits(model, batch), 1e-5, 1e-4, 'logits');
    expect(await session.loss(batch)).toBeCloseTo(referenceLoss(model, batch), 5);

    const shared = await session.maskGradients(batch, { convention: 'batch' });
    const ref = referenceMaskGradients(model, batch);
    expectClose(shared.head, ref.head, 1e-6, 1e-3, 'batch head gradient');
    expectClose(shared.neuron, ref.neuron, 1e-6, 1e-3, 'batch neuron gradient');
    expect(shared.loss).toBeCloseTo(referenceLoss(model, batch), 5);

    const ex = await session.maskGradients(batch, { convention: 'example' });
    const H = ref.head.length;
    const N = ref.neuron.length;
    for (let i = 0; i < batch.size; i++) {
      const r = referenceMaskGradients(model, sliceBatch(batch, i));
      expectClose(ex.head.subarray(i * H, i * H + H), r.head, 1e-6, 1e-3, `example ${i} head gradient`);
      expectClose(ex.neuron.subarray(i * N, i * N + N), r.neuron, 1e-6, 1e-3, `example ${i} neuron gradient`);
    }

    // per-example masks are sliced with their examples: zeroing example 3's heads changes its loss only
    const head = new Float32Array(5 * H).fill(1);
    head.fill(0, 3 * H, 4 * H);
    const masks = { head, neuron: new Float32Array(5 * N).fill(1) };
    expect(await session.loss(batch, masks)).toBeCloseTo(referenceLoss(model, batch, masks), 5);
  });
});
