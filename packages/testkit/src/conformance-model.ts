/**
 * Conformance checks for the Fisher with the model's own labels (METHOD.md section 3, `model`:
 * mask and full Fisher) and RegMean's Gram matrices (section 5.4), against the float64 references
 * of reference-fisher.ts. Called by runBackendConformance for backends that declare them.
 */
import { expect, it } from 'vitest';
import {
  computeFullFisher,
  computeMaskFisher,
  encoderParams,
  type Batch,
  type EncoderModel,
  type ModelSession,
} from '@fmn/core';
import { expectClose } from './expect-close.js';
import { referenceGrams, referenceModelMaskFisher, referenceModelParamFisher } from './reference-fisher.js';
import { Rng } from './rng.js';

const scaleOf = (v: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
};

/** The batch without its labels (the model convention must not need them). */
const unlabelled = (batch: Batch): Batch => ({ ...batch, labels: undefined });

export function runModelFisherChecks(
  getSession: () => ModelSession,
  model: EncoderModel,
  batch: Batch,
  full: boolean,
): void {
  it('model convention: mask Fisher matches the float64 reference, without labels', async () => {
    const session = getSession();
    const f = await computeMaskFisher(session, [unlabelled(batch)], 'model');
    const ref = referenceModelMaskFisher(model, batch);
    // relative to each vector's scale (float32 round-off of the largest terms)
    expectClose(f.head, ref.head, 1e-5 * scaleOf(ref.head), 2e-3, 'model-convention head Fisher');
    expectClose(f.neuron, ref.neuron, 1e-5 * scaleOf(ref.neuron), 2e-3, 'model-convention neuron Fisher');
    expect(f.examples).toBe(batch.size);
    // labels, when present, change nothing
    const labelled = await computeMaskFisher(session, [batch], 'model');
    expectClose(labelled.head, f.head, 0, 1e-6, 'head Fisher with labels present');
  });

  it('model convention: rows and weights have the documented shape', async () => {
    const session = getSession();
    const g = await session.maskGradients(unlabelled(batch), { convention: 'model' });
    const C = (model.head as { numLabels: number }).numLabels;
    const { layers: L, heads: H, intermediate: I } = session.layout;
    expect(g.weights?.length).toBe(C * batch.size);
    expect(g.head.length).toBe(C * batch.size * L * H);
    expect(g.neuron.length).toBe(C * batch.size * L * I);
    // per example, the class probabilities sum to 1 (regression: weight 1)
    for (let i = 0; i < batch.size; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += g.weights![c * batch.size + i];
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
  });

  if (full) {
    it('model convention: full Fisher entries match finite differences of the reference', async () => {
      const session = getSession();
      const { tensors } = await computeFullFisher(session, [unlabelled(batch)], {}, 'model');
      const params = encoderParams(model);
      expect([...tensors.keys()].sort()).toEqual(params.map((p) => p.name).sort());
      const rng = new Rng(13);
      for (const p of params) {
        const got = tensors.get(p.name)!;
        expect(got.length, p.name).toBe(p.data.length);
        const k = rng.int(p.data.length);
        const expected = referenceModelParamFisher(model, batch, p, k);
        expectClose([got[k]], [expected], 1e-7, 2e-2, `${p.name}[${k}] model-convention Fisher`);
      }
    });
  }
}

export function runGramChecks(getSession: () => ModelSession, model: EncoderModel, batch: Batch): void {
  it('Gram matrices of every Linear input match the float64 reference', async () => {
    const session = getSession();
    expect(session.linearInputGrams).toBeTypeOf('function');
    const grams = await session.linearInputGrams!(unlabelled(batch));
    const ref = referenceGrams(model, batch);
    expect([...grams.keys()].sort()).toEqual([...ref.keys()].sort());
    for (const [name, expected] of ref) {
      expectClose(grams.get(name)!, expected, 1e-5 * scaleOf(expected), 1e-4, `${name} Gram`);
    }
  });
}
