import { describe, expect, it } from 'vitest';
import { FmnError, encoderParams, type EncoderModel } from '@fmn/core';
import {
  randomBatch,
  randomEncoder,
  referenceLoss,
  referenceMaskedLmLoss,
  referenceParamGradient,
  withMaskedLmHead,
  Rng,
  FLAVOURS,
} from '@fmn/testkit';
import { createTfjsBackend, createTrainer, type TrainBatch } from './index.js';

const backend = await createTfjsBackend('wasm');

/** A BERT-shaped model with a masked-LM head whose decoder is tied to the word embeddings. */
function mlmModel(seed: number): EncoderModel {
  return withMaskedLmHead(randomEncoder('bert', { seed, numLabels: 0 }), seed + 1);
}

function mlmBatch(model: EncoderModel, seed: number): TrainBatch {
  const b = randomBatch(model, { seed, size: 4, seqLen: 8 });
  const rng = new Rng(seed);
  const tokenLabels = new Int32Array(b.size * b.seqLen).fill(-100);
  const ids = Int32Array.from(b.inputIds);
  for (let i = 0; i < ids.length; i++) {
    if (b.attentionMask[i] && rng.next() < 0.4) {
      tokenLabels[i] = ids[i];
      ids[i] = 3; // a "[MASK]" id
    }
  }
  return { ...b, inputIds: ids, tokenLabels };
}

describe('trainer', () => {
  it.each([...FLAVOURS])(
    '%s: reading the weights back before training returns the model exactly',
    async (flavour) => {
      const model = randomEncoder(flavour, { seed: 3, numLabels: 2 });
      const t = await createTrainer(model, { lr: 1e-3, totalSteps: 1, backend });
      const back = t.model();
      t.dispose();
      const a = encoderParams(model);
      const b = encoderParams(back);
      expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
      a.forEach((p, i) => {
        expect(b[i].shape).toEqual(p.shape);
        expect(b[i].data).toEqual(p.data);
        expect(b[i].data).not.toBe(p.data);
      });
    },
  );

  it('one AdamW step moves each weight by lr against its gradient sign; unused rows only decay', async () => {
    const model = randomEncoder('bert', { seed: 5, numLabels: 3 });
    const batch = randomBatch(model, { seed: 6, size: 3, seqLen: 6 });
    const lr = 1e-3;
    const wd = 0.1;
    const t = await createTrainer(model, { lr, weightDecay: wd, totalSteps: 10, backend });
    const loss = await t.step(batch);
    expect(Math.abs(loss - referenceLoss(model, batch))).toBeLessThan(1e-4);
    const after = new Map(encoderParams(t.model()).map((p) => [p.name, p]));
    t.dispose();
    const rng = new Rng(1);
    let checked = 0;
    for (const p of encoderParams(model)) {
      const decays = p.shape.length === 2;
      for (let n = 0; n < 3; n++) {
        const k = rng.int(p.data.length);
        const g = referenceParamGradient(model, batch, p, k);
        if (Math.abs(g) < 1e-3) continue; // Adam's first step is lr * g / (|g| + eps): sign only when |g| >> eps
        const start = decays ? p.data[k] * (1 - lr * wd) : p.data[k];
        expect(after.get(p.name)!.data[k] - start, `${p.name}[${k}]`).toBeCloseTo(-lr * Math.sign(g), 6);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    // position rows beyond the sequence length get exactly zero gradient: pure weight decay
    const pos = model.embeddings.position;
    const E = model.dims.embeddingSize;
    const got = after.get(pos.name)!.data;
    for (let k = 6 * E; k < pos.data.length; k++)
      expect(got[k]).toBe(Math.fround(pos.data[k] * Math.fround(1 - lr * wd)));
  });

  it.each([3, 1])(
    'classification (%i labels): steps lower the loss on a fixed batch, and the trained model agrees with the reference',
    async (numLabels) => {
      const model = randomEncoder('roberta', { seed: 7, numLabels });
      const batch = randomBatch(model, { seed: 8, size: 6, seqLen: 8 });
      const t = await createTrainer(model, {
        lr: 3e-3,
        warmupSteps: 2,
        totalSteps: 30,
        weightDecay: 0.01,
        backend,
      });
      const before = await t.evaluate(batch);
      expect(Math.abs(before - referenceLoss(model, batch))).toBeLessThan(1e-4);
      for (let i = 0; i < 30; i++) await t.step(batch);
      const after = await t.evaluate(batch);
      expect(after).toBeLessThan(0.3 * before);
      expect(Math.abs(after - referenceLoss(t.model(), batch))).toBeLessThan(1e-4);
      t.dispose();
    },
  );

  it('masked-LM with a tied decoder: matches a float64 computation, learns, and stays tied', async () => {
    const model = mlmModel(9);
    const batch = mlmBatch(model, 10);
    const t = await createTrainer(model, { lr: 3e-3, totalSteps: 40, backend, dropout: 0.1, seed: 1 });
    const before = await t.evaluate(batch);
    expect(Math.abs(before - referenceMaskedLmLoss(model, batch))).toBeLessThan(1e-4);
    for (let i = 0; i < 40; i++) await t.step(batch);
    const after = await t.evaluate(batch);
    expect(after).toBeLessThan(0.5 * before);
    const trained = t.model();
    t.dispose();
    expect(trained.head?.kind === 'masked-lm' && trained.head.decoder).toBe(trained.embeddings.word);
    expect(trained.embeddings.word.data).not.toEqual(model.embeddings.word.data);
    expect(Math.abs(after - referenceMaskedLmLoss(trained, batch))).toBeLessThan(1e-4);
  });

  it('rejects bad options and batches with FmnErrors', async () => {
    const model = randomEncoder('distilbert', { seed: 1, numLabels: 2 });
    await expect(createTrainer(model, { lr: 0, totalSteps: 5, backend })).rejects.toThrow(
      'invalid trainer options: lr must be positive (got 0)',
    );
    await expect(createTrainer(model, { lr: 1e-3, totalSteps: 5, warmupSteps: 6, backend })).rejects.toThrow(
      FmnError,
    );
    const mlm = await createTrainer(mlmModel(2), { lr: 1e-3, totalSteps: 5, backend });
    await expect(mlm.step(randomBatch(model, { seed: 1 }))).rejects.toThrow(
      /masked-lm head needs tokenLabels/,
    );
    mlm.dispose();
  });
});
