/**
 * The backend conformance suite (as tfjs-core's tests run inside each tfjs backend): every
 * backend package calls `runBackendConformance` from its own test file. All expectations come
 * from the float64 reference (reference.ts) or from identities of METHOD.md, never from the
 * backend under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encoderParams,
  onesMasks,
  type Backend,
  type Batch,
  type EncoderModel,
  type ModelSession,
} from '@fmn/core';
import { padBatch, randomBatch, sliceBatch } from './batches.js';
import { FLAVOURS, randomEncoder, type Flavour } from './encoders.js';
import {
  referenceLogits,
  referenceLoss,
  referenceMaskGradients,
  referenceParamGradient,
} from './reference.js';
import { Rng } from './rng.js';

export interface ConformanceOptions {
  /** creates the backend under test (called once) */
  createBackend: () => Promise<Backend>;
  flavours?: readonly Flavour[];
  /** also check squaredParamGradients (full diagonal Fisher) */
  fullFisher?: boolean;
  /** for backends that can train: a trainer (any optimizer, small fixed learning rate) for the model */
  createTrainer?: (model: EncoderModel, backend: Backend) => Promise<ConformanceTrainer>;
}

/** What the suite needs of a backend's trainer. */
export interface ConformanceTrainer {
  /** one optimizer step on the batch's mean loss; returns that loss before the update */
  step(batch: Batch): Promise<number>;
  /** the batch's mean loss, without updating */
  evaluate(batch: Batch): Promise<number>;
  dispose(): void;
}

/** max |a - b| / (atol + rtol * |b|) <= 1 elementwise, with a readable failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= 1)) {
    expect.fail(
      `${what}: index ${at}: got ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

function zeroHeadInOutputProjection(model: EncoderModel, layer: number, head: number): EncoderModel {
  const d = model.dims.headSize;
  const w = model.layers[layer].attentionOutput.weight;
  const [out, inp] = w.shape;
  const data = Float32Array.from(w.data);
  for (let o = 0; o < out; o++) for (let c = head * d; c < head * d + d; c++) data[o * inp + c] = 0;
  const layers = model.layers.map((l, i) =>
    i === layer ? { ...l, attentionOutput: { ...l.attentionOutput, weight: { ...w, data } } } : l,
  );
  return { ...model, layers };
}

export function runBackendConformance(options: ConformanceOptions): void {
  let backend: Backend;
  beforeAll(async () => {
    backend = await options.createBackend();
  });
  afterAll(async () => {
    await backend?.dispose?.();
  });

  const cases: { flavour: Flavour; numLabels: number }[] = [];
  for (const flavour of options.flavours ?? FLAVOURS) {
    cases.push({ flavour, numLabels: 3 }, { flavour, numLabels: 1 });
  }

  describe.each(cases)('$flavour, $numLabels label(s)', ({ flavour, numLabels }) => {
    const model = randomEncoder(flavour, { seed: 11, numLabels });
    const batch = randomBatch(model, { seed: 5, size: 3, seqLen: 7 });
    let session: ModelSession;
    beforeAll(async () => {
      session = await backend.load(model);
    });
    afterAll(async () => {
      await session?.dispose();
    });

    it('logits match the float64 reference', async () => {
      expectClose(await session.logits(batch), referenceLogits(model, batch), 1e-4, 0, 'logits');
    });

    it('loss matches the reference', async () => {
      expectClose([await session.loss(batch)], [referenceLoss(model, batch)], 1e-4, 1e-4, 'loss');
    });

    it('mask gradients match finite differences of the reference (batch convention)', async () => {
      const g = await session.maskGradients(batch, { convention: 'batch' });
      const fd = referenceMaskGradients(model, batch);
      expectClose(g.head, fd.head, 2e-5, 2e-3, 'head mask gradient');
      expectClose(g.neuron, fd.neuron, 2e-5, 2e-3, 'neuron mask gradient');
      expect(Math.abs(g.loss - referenceLoss(model, batch))).toBeLessThan(1e-4);
    });

    it('a head mask of 0 equals removing the head from the output projection', async () => {
      const layer = model.layers.length - 1;
      const head = 1;
      const masks = onesMasks(session.layout);
      masks.head[layer * model.dims.numHeads + head] = 0;
      const pruned = await backend.load(zeroHeadInOutputProjection(model, layer, head));
      try {
        const a = await session.loss(batch, masks);
        const b = await pruned.loss(batch);
        expect(Math.abs(a - b)).toBeLessThan(1e-5 * (1 + Math.abs(b)));
        expect(Math.abs(a - (await session.loss(batch)))).toBeGreaterThan(1e-6);
      } finally {
        await pruned.dispose();
      }
    });

    it('non-unit mask values act like the reference', async () => {
      const rng = new Rng(3);
      const masks = onesMasks(session.layout);
      for (let i = 0; i < masks.head.length; i++) masks.head[i] = 0.5 + rng.next();
      for (let i = 0; i < masks.neuron.length; i++) masks.neuron[i] = 0.5 + rng.next();
      expectClose(
        [await session.loss(batch, masks)],
        [referenceLoss(model, batch, masks)],
        1e-4,
        1e-4,
        'masked loss',
      );
    });

    it('example convention equals the batch convention on batches of one', async () => {
      const g = await session.maskGradients(batch, { convention: 'example' });
      const nh = g.head.length / batch.size;
      const nn = g.neuron.length / batch.size;
      expect(nh).toBe(session.layout.layers * session.layout.heads);
      expect(nn).toBe(session.layout.layers * session.layout.intermediate);
      for (let i = 0; i < batch.size; i++) {
        const one = await session.maskGradients(sliceBatch(batch, i), { convention: 'batch' });
        expectClose(g.head.subarray(i * nh, i * nh + nh), one.head, 1e-6, 1e-4, `example ${i} head gradient`);
        expectClose(
          g.neuron.subarray(i * nn, i * nn + nn),
          one.neuron,
          1e-6,
          1e-4,
          `example ${i} neuron gradient`,
        );
      }
    });

    it('extra padding changes logits and mask gradients by less than 1e-5 relative', async () => {
      const padded = padBatch(batch, 5, model.dims.padTokenId);
      expectClose(await session.logits(padded), await session.logits(batch), 1e-6, 1e-5, 'padded logits');
      const a = await session.maskGradients(padded, { convention: 'example' });
      const b = await session.maskGradients(batch, { convention: 'example' });
      // relative to each vector's scale: a float32 gradient that is small through cancellation
      // carries round-off of order eps times its largest terms, not times its own value
      const scale = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(a.head, b.head, 1e-5 * scale(b.head), 1e-5, 'padded head gradient');
      expectClose(a.neuron, b.neuron, 1e-5 * scale(b.neuron), 1e-5, 'padded neuron gradient');
    });

    if (options.createTrainer) {
      const createTrainer = options.createTrainer;
      it('a training step lowers the loss on a fixed batch', async () => {
        const trainer = await createTrainer(model, backend);
        try {
          const before = referenceLoss(model, batch);
          expectClose([await trainer.evaluate(batch)], [before], 1e-4, 1e-4, 'loss before training');
          expectClose([await trainer.step(batch)], [before], 1e-4, 1e-4, 'loss returned by the first step');
          const after1 = await trainer.evaluate(batch);
          expect(after1).toBeLessThan(before);
          for (let i = 0; i < 4; i++) await trainer.step(batch);
          expect(await trainer.evaluate(batch)).toBeLessThan(after1);
        } finally {
          trainer.dispose();
        }
      });
    }

    if (options.fullFisher) {
      it('full Fisher: per-example squared gradients match finite differences, summed over examples', async () => {
        expect(session.squaredParamGradients).toBeTypeOf('function');
        const sum = await session.squaredParamGradients!(batch);
        const params = encoderParams(model);
        expect([...sum.keys()].sort()).toEqual(params.map((p) => p.name).sort());
        const singles = [];
        for (let i = 0; i < batch.size; i++)
          singles.push(await session.squaredParamGradients!(sliceBatch(batch, i)));
        const rng = new Rng(9);
        for (const p of params) {
          const got = sum.get(p.name)!;
          expect(got.length, p.name).toBe(p.data.length);
          // the batch result is the sum of single-example results
          const naive = new Float32Array(p.data.length);
          for (const s of singles) s.get(p.name)!.forEach((v, k) => (naive[k] += v));
          expectClose(got, naive, 1e-9, 1e-3, `${p.name} summed over examples`);
          // and each single-example entry is the square of the reference gradient
          const k = rng.int(p.data.length);
          let expected = 0;
          for (let i = 0; i < batch.size; i++)
            expected += referenceParamGradient(model, sliceBatch(batch, i), p, k) ** 2;
          expectClose([got[k]], [expected], 1e-7, 2e-2, `${p.name}[${k}] squared gradient`);
        }
      });
    }
  });
}
