/**
 * One training step from the same weights on tfjs-wasm and on ONNX Runtime gives the same updated
 * weights: both compute the gradient in float32 (independently: tfjs ops vs the ONNX graph's
 * autodiff) and apply AdamW (tfjs's tensor version vs core's adamwUpdate).
 *
 * Tolerance. The two gradients differ by float32 round-off: at most 1.2e-7 on these fixtures
 * (gradients of O(0.01-1)), checked first against atol 1e-6. The first Adam step moves an entry
 * by lr g / (|g| + eps), whose derivative in g is at most lr / eps; with eps = 1e-3 (instead of
 * 1e-8, where the step is lr sign(g) and a gradient within round-off of 0 may flip sign) a
 * gradient difference of 1e-6 moves the update by at most lr * 1e-3 = 1e-6 for lr = 1e-3, and the
 * float32 weights add an ulp or two (< 1.2e-7 for |p| < 1): atol 1.5e-6.
 */
import { describe, expect, it } from 'vitest';
import { encoderParams, type EncoderModel, type TrainBatch } from '@fmn/core';
import { createTfjsBackend } from '@fmn/backend-tfjs';
import { expectClose, maskedLmBatch, randomBatch, randomEncoder, withMaskedLmHead } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from './session.js';

const ort = await createOnnxRuntimeBackend({ intraOpNumThreads: 1 });
const tfjs = await createTfjsBackend('wasm');

const cases: { what: string; model: EncoderModel; batch: TrainBatch }[] = [];
{
  const cls = randomEncoder('bert', { seed: 31, numLabels: 3 });
  cases.push({
    what: 'bert classification',
    model: cls,
    batch: randomBatch(cls, { seed: 32, size: 4, seqLen: 9 }),
  });
  const mlm = withMaskedLmHead(randomEncoder('roberta', { seed: 33, numLabels: 0 }), 34);
  cases.push({
    what: 'roberta masked-LM',
    model: mlm,
    batch: maskedLmBatch(mlm, { seed: 35, size: 4, seqLen: 9 }),
  });
}

describe.each(cases)('tfjs-wasm and onnxruntime agree: $what', ({ model, batch }) => {
  const options = { lr: 1e-3, totalSteps: 10, weightDecay: 0.01, eps: 1e-3 };

  it('gradients agree to float32 round-off', async () => {
    const a = await ort.createTrainer!(model, options);
    const b = await tfjs.createTrainer!(model, options);
    const ga = await a.gradients(batch);
    const gb = await b.gradients(batch);
    await a.dispose();
    await b.dispose();
    for (const p of encoderParams(model)) expectClose(ga.get(p.name)!, gb.get(p.name)!, 1e-6, 0, p.name);
  });

  it('one step gives the same updated weights', async () => {
    const a = await ort.createTrainer!(model, options);
    const b = await tfjs.createTrainer!(model, options);
    expect(Math.abs((await a.step(batch)) - (await b.step(batch)))).toBeLessThan(1e-5);
    const wa = new Map(encoderParams(a.model()).map((p) => [p.name, p.data]));
    const wb = new Map(encoderParams(b.model()).map((p) => [p.name, p.data]));
    await a.dispose();
    await b.dispose();
    let moved = 0;
    for (const p of encoderParams(model)) {
      expectClose(wa.get(p.name)!, wb.get(p.name)!, 1.5e-6, 0, p.name);
      wa.get(p.name)!.forEach((x, i) => (moved = Math.max(moved, Math.abs(x - p.data[i]))));
    }
    // the step did move the weights, by far more than the tolerance
    expect(moved).toBeGreaterThan(5e-4);
  });
});
