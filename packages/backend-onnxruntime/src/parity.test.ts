/**
 * Parity with the tfjs backend (wasm runtime): on the four architectures, logits agree within
 * 1e-4 absolute, the mask Fisher (every convention, the model's own labels included), the
 * model-convention full Fisher and the Gram matrices within 1e-3 relative.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeFullFisher,
  computeGrams,
  computeMaskFisher,
  gramTargets,
  type Backend,
  type Batch,
  type FisherConvention,
} from '@fmn/core';
import { createTfjsBackend } from '@fmn/backend-tfjs';
import { FLAVOURS, expectClose, randomBatch, randomEncoder } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from './session.js';

/**
 * |a - b| <= rtol |b| elementwise, with a floor of 1e-6 of the largest entry (entries that small
 * are float32 rounding noise of cancelling sums).
 */
function expectRelative(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what: string,
): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  expect(scale, `${what} is not all zero`).toBeGreaterThan(0);
  expectClose(actual, expected, 1e-6 * scale, rtol, what);
}

let ort: Backend;
let tfjs: Backend;
beforeAll(async () => {
  ort = await createOnnxRuntimeBackend({ intraOpNumThreads: 1 });
  tfjs = await createTfjsBackend('wasm');
});
afterAll(async () => {
  await tfjs?.dispose?.();
  await ort?.dispose?.();
});

describe.each(FLAVOURS)('%s: onnxruntime agrees with tfjs-wasm', (flavour) => {
  const model = randomEncoder(flavour, {
    seed: 11,
    numLayers: 2,
    hidden: 32,
    numHeads: 4,
    intermediate: 48,
    maxPositions: 40,
  });
  // two ragged batches of different sizes and lengths
  const batches: Batch[] = [
    randomBatch(model, { seed: 5, size: 3, seqLen: 9 }),
    randomBatch(model, { seed: 6, size: 2, seqLen: 12 }),
  ];

  it('logits within 1e-4 absolute', async () => {
    const [a, b] = await Promise.all([ort.load(model), tfjs.load(model)]);
    try {
      for (const batch of batches)
        expectClose(await a.logits(batch), await b.logits(batch), 1e-4, 0, `${flavour} logits`);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it.each(['batch', 'example', 'model'] as FisherConvention[])(
    'mask Fisher (%s convention) within 1e-3 relative',
    async (convention) => {
      const [a, b] = await Promise.all([ort.load(model), tfjs.load(model)]);
      try {
        const fa = await computeMaskFisher(a, batches, convention);
        const fb = await computeMaskFisher(b, batches, convention);
        expectRelative(fa.head, fb.head, 1e-3, `${flavour} ${convention} head Fisher`);
        expectRelative(fa.neuron, fb.neuron, 1e-3, `${flavour} ${convention} neuron Fisher`);
      } finally {
        await a.dispose();
        await b.dispose();
      }
    },
  );

  it('model-convention full Fisher and Gram matrices within 1e-3 relative', async () => {
    const [a, b] = await Promise.all([ort.load(model), tfjs.load(model)]);
    try {
      const unlabelled = batches.map((x) => ({ ...x, labels: undefined }));
      const fa = await computeFullFisher(a, unlabelled, {}, 'model');
      const fb = await computeFullFisher(b, unlabelled, {}, 'model');
      for (const [name, v] of fb.tensors) {
        // the attention key bias gets no gradient (METHOD.md 4): float32 noise on both sides
        if (name.includes('key.bias') || name.includes('k_lin.bias')) continue;
        expectRelative(fa.tensors.get(name)!, v, 1e-3, `${flavour} model-convention Fisher ${name}`);
      }
      const targets = gramTargets(model);
      const ga = await computeGrams(a, targets, unlabelled);
      const gb = await computeGrams(b, targets, unlabelled);
      for (const t of targets)
        expectRelative(ga.grams.get(t.name)!, gb.grams.get(t.name)!, 1e-3, `${flavour} Gram ${t.name}`);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
