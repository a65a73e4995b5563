import { describe, expect, it } from 'vitest';
import { encoderParams, isFmnError } from '@fmn/core';
import {
  maskedLmBatch,
  randomBatch,
  randomEncoder,
  referenceTrainLoss,
  withMaskedLmHead,
} from '@fmn/testkit';
import { createOnnxRuntimeBackend } from './session.js';

const backend = await createOnnxRuntimeBackend({ intraOpNumThreads: 1 });

describe('onnxruntime trainer', () => {
  it('refuses dropout with an FmnError saying it trains without it', async () => {
    const model = randomEncoder('bert', { seed: 1, numLabels: 2 });
    const err = await backend.createTrainer!(model, { lr: 1e-3, totalSteps: 5, dropout: 0.1 }).catch(
      (e) => e,
    );
    expect(isFmnError(err)).toBe(true);
    expect((err as Error).message).toMatch(/onnxruntime backend trains without dropout/);
  });

  it('masked-LM with a tied decoder: learns on a fixed batch and stays tied', async () => {
    const model = withMaskedLmHead(randomEncoder('electra', { seed: 9, numLabels: 0 }), 10);
    const batch = maskedLmBatch(model, { seed: 11, size: 4, seqLen: 8 });
    const t = await backend.createTrainer!(model, { lr: 3e-3, totalSteps: 40 });
    try {
      const before = await t.evaluate(batch);
      expect(Math.abs(before - referenceTrainLoss(model, batch))).toBeLessThan(1e-4);
      for (let i = 0; i < 40; i++) await t.step(batch);
      const after = await t.evaluate(batch);
      expect(after).toBeLessThan(0.7 * before);
      const trained = t.model();
      expect(trained.head?.kind === 'masked-lm' && trained.head.decoder).toBe(trained.embeddings.word);
      expect(Math.abs(after - referenceTrainLoss(trained, batch))).toBeLessThan(1e-4);
      // the source model is not changed
      expect(encoderParams(model)[0].data).not.toEqual(encoderParams(trained)[0].data);
    } finally {
      await t.dispose();
    }
  });

  it('a masked-LM batch without labelled tokens has loss 0 and zero gradients', async () => {
    const model = withMaskedLmHead(randomEncoder('bert', { seed: 2, numLabels: 0 }), 3);
    const batch = {
      ...randomBatch(model, { seed: 4 }),
      labels: undefined,
      tokenLabels: new Int32Array(21).fill(-100),
    };
    const t = await backend.createTrainer!(model, { lr: 1e-3, totalSteps: 5 });
    try {
      expect(await t.evaluate(batch)).toBe(0);
      const g = await t.gradients(batch);
      for (const v of g.values()) expect(v.every((x) => x === 0)).toBe(true);
    } finally {
      await t.dispose();
    }
  });
});
