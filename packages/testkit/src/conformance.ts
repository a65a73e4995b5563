/**
 * The backend conformance suite (as tfjs-core's tests run inside each tfjs backend): every
 * backend package calls `runBackendConformance` from its own test file. All expectations come
 * from the float64 reference (reference.ts) or from identities of METHOD.md, never from the
 * backend under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKEND_CONTRACT_VERSION,
  FISHER_CONVENTIONS,
  encoderParams,
  isFmnError,
  onesMasks,
  type Backend,
  type Batch,
  type EncoderModel,
  type FisherConvention,
  type MaskValues,
  type ModelSession,
} from '@fmn/core';
import { padBatch, randomBatch, sliceBatch } from './batches.js';
import { runGramChecks, runModelFisherChecks } from './conformance-model.js';
import { runTrainingChecks } from './conformance-training.js';
import { maskedLmBatch, withMaskedLmHead } from './masked-lm.js';
import { expectClose } from './expect-close.js';
import { FLAVOURS, randomEncoder, type Flavour } from './encoders.js';
import {
  referenceLogits,
  referenceLoss,
  referenceMaskGradients,
  referenceParamGradient,
} from './reference.js';
import { Rng } from './rng.js';

export { expectClose } from './expect-close.js';

export interface ConformanceOptions {
  /** creates the backend under test (called once) */
  createBackend: () => Promise<Backend>;
  flavours?: readonly Flavour[];
  /** also check squaredParamGradients (full diagonal Fisher) */
  fullFisher?: boolean;
  /** also check the `model` convention (mask Fisher, and full Fisher with fullFisher) */
  modelConvention?: boolean;
  /** also check linearInputGrams (RegMean's Gram matrices) */
  gram?: boolean;
  /** also check training (Backend.createTrainer: gradients, steps, the AdamW update) */
  training?: boolean;
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

/** A call that must reject with an FmnError carrying exactly `message`. */
async function expectFmnError(call: () => Promise<unknown>, message: string, what: string): Promise<void> {
  let err: unknown;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  expect(err, `${what}: expected a rejection`).toBeDefined();
  expect(isFmnError(err), `${what}: not an FmnError: ${String(err)}`).toBe(true);
  expect((err as Error).message, what).toBe(message);
}

type BatchCall = 'logits' | 'loss' | 'maskGradients' | 'squaredParamGradients';

/**
 * The input contract of core (validateBatch, the mask checks): bad batches and masks that every
 * backend must refuse with core's FmnError messages, before computing anything. Each batch case
 * lists the session methods it applies to (a batch without labels is fine for logits).
 */
function runErrorCases(getBackend: () => Backend, flavour: Flavour): void {
  describe(`bad input (${flavour}) is refused with core's messages`, () => {
    const model = randomEncoder(flavour, { seed: 11, numLabels: 3 });
    const good = randomBatch(model, { seed: 5, size: 3, seqLen: 7 });
    const { vocabSize: V, maxPositions: P, numLayers: L, numHeads: H, intermediate: I } = model.dims;
    const n = good.size * good.seqLen;
    let session: ModelSession;
    beforeAll(async () => {
      session = await getBackend().load(model);
    });
    afterAll(async () => {
      await session?.dispose();
    });

    const withId = (i: number, id: number): Batch => {
      const ids = Int32Array.from(good.inputIds);
      ids[i] = id;
      return { ...good, inputIds: ids };
    };
    const all: BatchCall[] = ['logits', 'loss', 'maskGradients', 'squaredParamGradients'];
    const lossOnly: BatchCall[] = ['loss', 'maskGradients', 'squaredParamGradients'];
    const long = randomBatch(model, { seed: 5, size: 1, seqLen: P + 1, ragged: false });
    const batchCases: { what: string; batch: Batch; message: string; calls: BatchCall[] }[] = [
      {
        what: 'an empty batch',
        batch: { ...good, size: 0, inputIds: new Int32Array(0), attentionMask: new Int32Array(0) },
        message: 'invalid batch: size 0 x seqLen 7 (both must be positive integers)',
        calls: all,
      },
      {
        what: 'inputIds of the wrong length',
        batch: { ...good, inputIds: good.inputIds.subarray(1) },
        message: `invalid batch: inputIds holds ${n - 1} values, expected ${n}`,
        calls: all,
      },
      {
        what: 'an attention mask of the wrong length',
        batch: { ...good, attentionMask: new Int32Array(n + 2).fill(1) },
        message: `invalid batch: attentionMask holds ${n + 2} values, expected ${n}`,
        calls: all,
      },
      {
        what: 'inputIds of the wrong dtype',
        batch: { ...good, inputIds: Float32Array.from(good.inputIds) as unknown as Int32Array },
        message: 'invalid batch: inputIds must be an Int32Array, got Float32Array',
        calls: all,
      },
      {
        what: 'a token id past the vocabulary',
        batch: withId(4, V),
        message: `invalid batch: token id ${V} at position 4 is outside the vocabulary (size ${V})`,
        calls: all,
      },
      {
        what: 'a negative token id',
        batch: withId(0, -1),
        message: `invalid batch: token id -1 at position 0 is outside the vocabulary (size ${V})`,
        calls: all,
      },
      {
        what: 'an attention mask value other than 0 and 1',
        batch: { ...good, attentionMask: Int32Array.from(good.attentionMask, (m, i) => (i === 2 ? 2 : m)) },
        message: 'invalid batch: attention mask value 2 at position 2 (must be 0 or 1)',
        calls: all,
      },
      {
        what: 'a sequence longer than the position table',
        batch: long,
        message: `invalid batch: sequence length ${P + 1} exceeds the model's ${P} positions`,
        calls: all,
      },
      {
        what: 'a loss without labels',
        batch: { ...good, labels: undefined },
        message: `invalid batch: the loss needs ${good.size} labels, got none`,
        calls: lossOnly,
      },
      {
        what: 'a label that is not a class index',
        batch: { ...good, labels: Float32Array.of(0, 3, 1) },
        message: 'invalid batch: label 3 is not a class index in 0..2 (example 1)',
        calls: lossOnly,
      },
      {
        what: 'labels of the wrong length',
        batch: { ...good, labels: Float32Array.of(0, 1) },
        message: `invalid batch: labels holds 2 values, expected ${good.size}`,
        calls: lossOnly,
      },
    ];
    if (model.embeddings.tokenType) {
      batchCases.push({
        what: 'a token type past the type vocabulary',
        batch: { ...good, tokenTypeIds: Int32Array.from({ length: n }, (_, i) => (i === 3 ? 2 : 0)) },
        message: 'invalid batch: token type id 2 at position 3 is outside the type vocabulary (size 2)',
        calls: all,
      });
    } else {
      batchCases.push({
        what: 'token types for a model without them',
        batch: { ...good, tokenTypeIds: Int32Array.from({ length: n }, (_, i) => (i === 3 ? 1 : 0)) },
        message: 'invalid batch: token type id 1 at position 3: the model has no token types',
        calls: all,
      });
    }

    const run = (s: ModelSession, call: BatchCall, batch: Batch): Promise<unknown> =>
      call === 'logits'
        ? s.logits(batch)
        : call === 'loss'
          ? s.loss(batch)
          : call === 'maskGradients'
            ? s.maskGradients(batch, { convention: 'batch' })
            : s.squaredParamGradients!(batch);

    it.each(batchCases)('$what', async ({ batch, message, calls }) => {
      for (const call of calls) {
        if (call === 'squaredParamGradients' && !session.squaredParamGradients) continue;
        await expectFmnError(() => run(session, call, batch), message, call);
      }
    });

    const shared = (h: number, nn: number): MaskValues => ({
      head: new Float32Array(h).fill(1),
      neuron: new Float32Array(nn).fill(1),
    });
    const B = good.size;
    it('masks that fit neither shared nor per-example sizes (loss)', async () => {
      await expectFmnError(
        () => session.loss(good, shared(L * H + 1, L * I)),
        `invalid masks: head/neuron sizes ${L * H + 1}/${L * I} fit neither shared masks [${L * H}]/[${L * I}] nor per-example masks [${B * L * H}]/[${B * L * I}]`,
        'loss',
      );
    });
    it('masks of the wrong size for the convention (maskGradients)', async () => {
      await expectFmnError(
        () => session.maskGradients(good, { convention: 'example', masks: onesMasks(session.layout) }),
        `invalid masks: the example convention needs head [${B * L * H}] and neuron [${B * L * I}] values, got ${L * H} and ${L * I}`,
        'example convention',
      );
      await expectFmnError(
        () => session.maskGradients(good, { convention: 'batch', masks: onesMasks(session.layout, B) }),
        `invalid masks: the batch convention needs head [${L * H}] and neuron [${L * I}] values, got ${B * L * H} and ${B * L * I}`,
        'batch convention',
      );
    });
    it('non-finite or non-float32 mask values', async () => {
      const nan = onesMasks(session.layout);
      nan.neuron[3] = NaN;
      await expectFmnError(
        () => session.loss(good, nan),
        'invalid masks: neuron value NaN at index 3',
        'loss',
      );
      await expectFmnError(
        () => session.maskGradients(good, { convention: 'batch', masks: nan }),
        'invalid masks: neuron value NaN at index 3',
        'maskGradients',
      );
      const f64 = { head: new Float64Array(L * H).fill(1), neuron: new Float32Array(L * I).fill(1) };
      await expectFmnError(
        () => session.loss(good, f64 as unknown as MaskValues),
        'invalid masks: head must be a Float32Array, got Float64Array',
        'loss',
      );
    });
    it('an unknown Fisher convention', async () => {
      await expectFmnError(
        () => session.maskGradients(good, { convention: 'token' as FisherConvention }),
        'unknown Fisher convention "token" (batch, example or model)',
        'maskGradients',
      );
    });
  });
}

export function runBackendConformance(options: ConformanceOptions): void {
  let backend: Backend;
  beforeAll(async () => {
    backend = await options.createBackend();
  });
  afterAll(async () => {
    await backend?.dispose?.();
  });

  it('declares the contract version and capabilities it implements', () => {
    expect(backend.contractVersion).toBe(BACKEND_CONTRACT_VERSION);
    const c = backend.capabilities;
    expect(c.conventions.length).toBeGreaterThan(0);
    for (const conv of c.conventions) expect(FISHER_CONVENTIONS).toContain(conv);
    // the suite checks full Fisher, the model convention, Gram matrices and training exactly
    // when the backend says it has them
    expect(c.fullFisher).toBe(options.fullFisher === true);
    expect(c.conventions.includes('model')).toBe(options.modelConvention === true);
    const fullConventions = c.fullFisherConventions ?? (c.fullFisher ? ['example'] : []);
    expect(fullConventions.includes('model')).toBe(
      options.fullFisher === true && options.modelConvention === true,
    );
    expect(c.gram === true).toBe(options.gram === true);
    expect(c.training).toBe(options.training === true);
    // createTrainer is present exactly when the backend declares training
    expect(typeof backend.createTrainer === 'function').toBe(c.training);
    if (c.threads !== undefined) expect(Number.isInteger(c.threads) && c.threads >= 1).toBe(true);
  });

  const flavours = options.flavours ?? FLAVOURS;
  // RoBERTa's position ids and DistilBERT's missing token types are the interesting cases
  for (const f of flavours.filter((f) => f === 'roberta' || f === 'distilbert').slice(0, 2))
    runErrorCases(() => backend, f);
  if (!flavours.includes('roberta') && !flavours.includes('distilbert'))
    runErrorCases(() => backend, flavours[0]);

  const cases: { flavour: Flavour; numLabels: number }[] = [];
  for (const flavour of flavours) {
    cases.push({ flavour, numLabels: 3 }, { flavour, numLabels: 1 });
  }

  if (options.training) {
    describe.each([...flavours])('%s, masked-LM head tied to the word embeddings', (flavour) => {
      const model = withMaskedLmHead(randomEncoder(flavour, { seed: 11, numLabels: 0 }), 12);
      runTrainingChecks(() => backend, 'training (masked-LM)', model, maskedLmBatch(model, { seed: 5 }));
    });
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

    if (options.modelConvention)
      runModelFisherChecks(() => session, model, batch, options.fullFisher === true);
    if (options.gram) runGramChecks(() => session, model, batch);

    if (options.training) runTrainingChecks(() => backend, 'training (classification)', model, batch);

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
