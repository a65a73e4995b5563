/**
 * Conformance checks of the training capability (core's training.ts), for backends whose
 * capabilities.training is true, on a classification or masked-LM model:
 *
 * - gradients() match central finite differences of the float64 reference loss on a sample of
 *   entries of every parameter (the word embeddings: also a row the batch uses);
 * - steps on a fixed batch lower the loss, and step() returns the loss before its update; the
 *   model given is left unchanged, and a decoder tied to the word embeddings stays tied;
 * - one step's update is the AdamW formula worked by hand: with warm-up over 2 steps the first
 *   step has learning rate 0 (nothing moves, the moments take g), so the second step, at the same
 *   weights and hence the same gradient g, has m_hat = g and v_hat = g^2 exactly:
 *   p <- p (1 - lr wd [matrices only]) - lr g / (|g| + eps), lr = peak / 2.
 *
 * Tolerances. Gradients: the backend computes in float32, so an entry carries round-off of about
 * 1e-7 times the magnitudes summed into it (the fixtures' gradients are O(0.01-1)); the float64
 * central difference with step 1e-3 has truncation error step^2/6 |f'''| ~ 1e-7. atol 2e-5 plus
 * rtol 1e-3 leaves a margin of ten over both while a wrong rule (a missing term, a transposed
 * block) is off by O(|g|). The AdamW check: weights are stored in float32 (an ulp of |p| < 4 is
 * at most 4.8e-7) and the update lr g / (|g| + eps) is computed from the same gradient, so atol
 * 1e-6 covers two roundings and nothing more.
 */
import { expect, it } from 'vitest';
import {
  encoderParams,
  isFmnError,
  type Backend,
  type EncoderModel,
  type Param,
  type TrainBatch,
  type Trainer,
} from '@fmn/core';
import { expectClose } from './expect-close.js';
import { referenceTrainGradient, referenceTrainLoss } from './masked-lm.js';
import { Rng } from './rng.js';

const GRAD_ATOL = 2e-5;
const GRAD_RTOL = 1e-3;
const ADAMW_ATOL = 1e-6;

async function withTrainer<T>(
  backend: Backend,
  model: EncoderModel,
  options: Parameters<NonNullable<Backend['createTrainer']>>[1],
  use: (t: Trainer) => Promise<T>,
): Promise<T> {
  const t = await backend.createTrainer!(model, options);
  try {
    return await use(t);
  } finally {
    await t.dispose();
  }
}

/** Entries of a parameter to check: `n` random ones, and for the word embeddings one of batch's first token's row. */
function sampleEntries(model: EncoderModel, batch: TrainBatch, p: Param, rng: Rng, n: number): number[] {
  const out = Array.from({ length: n }, () => rng.int(p.data.length));
  if (p === model.embeddings.word) {
    const E = p.shape[1];
    out.push(batch.inputIds[0] * E + rng.int(E));
  }
  return out;
}

export function runTrainingChecks(
  getBackend: () => Backend,
  what: string,
  model: EncoderModel,
  batch: TrainBatch,
): void {
  it(`${what}: gradients match finite differences of the float64 reference`, async () => {
    await withTrainer(getBackend(), model, { lr: 1e-3, totalSteps: 5 }, async (t) => {
      const grads = await t.gradients(batch);
      const params = encoderParams(model);
      // by HuggingFace name, tied tensors once
      expect([...grads.keys()].sort()).toEqual(params.map((p) => p.name).sort());
      const rng = new Rng(21);
      for (const p of params) {
        const g = grads.get(p.name)!;
        expect(g.length, p.name).toBe(p.data.length);
        for (const k of sampleEntries(model, batch, p, rng, 2)) {
          const fd = referenceTrainGradient(model, batch, p, k);
          expectClose([g[k]], [fd], GRAD_ATOL, GRAD_RTOL, `d loss / d ${p.name}[${k}]`);
        }
      }
      // gradients() does not update
      expectClose([await t.evaluate(batch)], [referenceTrainLoss(model, batch)], 1e-4, 1e-4, 'loss');
      expect(t.steps).toBe(0);
    });
  });

  it(`${what}: training steps on a fixed batch lower the loss; the model given is not changed, a tied decoder stays tied`, async () => {
    const options = { lr: 1e-3, totalSteps: 10, weightDecay: 0.01 };
    const source = encoderParams(model).map((p) => Float32Array.from(p.data));
    await withTrainer(getBackend(), model, options, async (t) => {
      const before = referenceTrainLoss(model, batch);
      expectClose([await t.evaluate(batch)], [before], 1e-4, 1e-4, 'loss before training');
      expectClose([await t.step(batch)], [before], 1e-4, 1e-4, 'loss returned by the first step');
      const after1 = await t.evaluate(batch);
      expect(after1).toBeLessThan(before);
      for (let i = 0; i < 4; i++) await t.step(batch);
      const after5 = await t.evaluate(batch);
      expect(after5).toBeLessThan(after1);
      expect(t.steps).toBe(5);
      // the trained weights agree with the reference evaluated on them
      const trained = t.model();
      expectClose([after5], [referenceTrainLoss(trained, batch)], 1e-4, 1e-4, 'loss after training');
      // the trainer works on its own copy; a decoder tied to the word embeddings is still that Param
      encoderParams(model).forEach((p, k) => expect(p.data, p.name).toEqual(source[k]));
      if (model.head?.kind === 'masked-lm' && model.head.decoder === model.embeddings.word)
        expect(trained.head?.kind === 'masked-lm' && trained.head.decoder).toBe(trained.embeddings.word);
    });
  });

  it(`${what}: one step is the AdamW formula (warm-up, decay on matrices only)`, async () => {
    const peak = 0.01;
    const wd = 0.1;
    const eps = 1e-8;
    const options = { lr: peak, warmupSteps: 2, totalSteps: 6, weightDecay: wd, eps };
    await withTrainer(getBackend(), model, options, async (t) => {
      // HuggingFace's schedule: 0, 1/2, 1, then linear decay to 0 at step 6
      expect(t.learningRate()).toBe(0);
      const g = await t.gradients(batch);
      await t.step(batch);
      const unchanged = new Map(encoderParams(t.model()).map((p) => [p.name, p.data]));
      for (const p of encoderParams(model)) expect(unchanged.get(p.name), p.name).toEqual(p.data);
      expect(t.learningRate()).toBeCloseTo(peak / 2, 12);
      await t.step(batch);
      expect(t.learningRate()).toBeCloseTo(peak, 12);
      const lr = peak / 2;
      const after = new Map(encoderParams(t.model()).map((p) => [p.name, p.data]));
      for (const p of encoderParams(model)) {
        const matrix = p.shape.length === 2;
        const gp = g.get(p.name)!;
        const expected = Array.from(
          p.data,
          (x, i) => x * (matrix ? 1 - lr * wd : 1) - (lr * gp[i]) / (Math.abs(gp[i]) + eps),
        );
        expectClose(after.get(p.name)!, expected, ADAMW_ATOL, 0, `${p.name} after two steps`);
      }
    });
  });

  it(`${what}: bad batches are refused with core's messages`, async () => {
    const n = batch.size * batch.seqLen;
    const cases: { batch: TrainBatch; message: string }[] =
      model.head?.kind === 'masked-lm'
        ? [
            {
              batch: { ...batch, tokenLabels: undefined },
              message: `invalid batch: a masked-lm head needs tokenLabels [${n}]`,
            },
            {
              batch: { ...batch, tokenLabels: new Int32Array(n).fill(model.dims.vocabSize) },
              message: `invalid batch: token label ${model.dims.vocabSize} at position 0 is outside the vocabulary (size ${model.dims.vocabSize})`,
            },
          ]
        : [
            {
              batch: { ...batch, labels: undefined },
              message: `invalid batch: the loss needs ${batch.size} labels, got none`,
            },
          ];
    await withTrainer(getBackend(), model, { lr: 1e-3, totalSteps: 5 }, async (t) => {
      for (const c of cases) {
        for (const call of [() => t.step(c.batch), () => t.gradients(c.batch), () => t.evaluate(c.batch)]) {
          const err = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isFmnError(err), String(err)).toBe(true);
          expect((err as Error).message).toBe(c.message);
        }
      }
      expect(t.steps).toBe(0);
    });
  });
}
