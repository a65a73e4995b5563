import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { createTfjsBackend, createTrainer } from './index.js';

describe('no tensor leaks across batches (wasm)', async () => {
  const backend = await createTfjsBackend('wasm');
  const model = randomEncoder('roberta', { seed: 2, numLabels: 3 });
  const batches = Array.from({ length: 50 }, (_, i) =>
    randomBatch(model, { seed: 100 + i, size: 3, seqLen: 6 }),
  );

  const leakCheck = async (run: (i: number) => Promise<unknown>) => {
    await run(0);
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < 50; i++) await run(i);
    expect(tf.memory().numTensors).toBe(after1);
  };

  it('maskGradients, batch convention; disposing the session releases its tensors', async () => {
    const before = tf.memory().numTensors;
    const s = await backend.load(model);
    await leakCheck((i) => s.maskGradients(batches[i], { convention: 'batch' }));
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maskGradients, example convention (chunked batches too)', async () => {
    const s = await backend.load(model);
    const chunked = await createTfjsBackend('wasm', { maxChunkTokens: 6 }).then((b) => b.load(model));
    await leakCheck(async (i) => {
      await s.maskGradients(batches[i], { convention: 'example' });
      await chunked.maskGradients(batches[i], { convention: 'example' });
    });
    s.dispose();
    chunked.dispose();
  });

  it('squaredParamGradients, logits and loss', async () => {
    const s = await backend.load(model);
    await leakCheck(async (i) => {
      await s.squaredParamGradients(batches[i]);
      await s.logits(batches[i]);
      await s.loss(batches[i]);
    });
    s.dispose();
  });

  it('training steps, and disposing releases every tensor', async () => {
    const before = tf.memory().numTensors;
    const trainer = await createTrainer(model, { lr: 1e-3, totalSteps: 50, backend, dropout: 0.1 });
    await leakCheck((i) => trainer.step(batches[i]));
    trainer.dispose();
    const s = await backend.load(model);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
