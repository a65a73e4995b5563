import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { randomBatch, randomEncoder, withMaskedLmHead } from '@fmn/testkit';
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
