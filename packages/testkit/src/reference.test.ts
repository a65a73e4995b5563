import { describe, expect, it } from 'vitest';
import { onesMasks } from '@fmn/core';
import { padBatch, randomBatch } from './batches.js';
import { FLAVOURS, randomEncoder } from './encoders.js';
import { erf, referenceLogits, referenceLoss, referenceMaskGradients } from './reference.js';

describe('erf', () => {
  it('matches published values (Abramowitz & Stegun table 7.1 / high-precision tables)', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, v] of table) {
      expect(erf(x)).toBeCloseTo(v, 13);
      expect(erf(-x)).toBeCloseTo(-v, 13);
    }
  });
});

describe.each(FLAVOURS)('reference %s', (flavour) => {
  const model = randomEncoder(flavour, { seed: 3 });
  const batch = randomBatch(model, { seed: 4 });

  it('is invariant to extra padding', () => {
    const a = referenceLogits(model, batch);
    const b = referenceLogits(model, padBatch(batch, 4, model.dims.padTokenId));
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 12);
  });

  it('neuron mask gradient equals the activation-weighted gradient identity: sum of m*dL/dm is linear in m', () => {
    // Loss is affine in each single mask entry (it multiplies one activation), so the central
    // difference is exact up to rounding: doubling the step must not change it.
    const g1 = referenceMaskGradients(model, batch, 1e-4);
    const g2 = referenceMaskGradients(model, batch, 2e-4);
    for (let i = 0; i < g1.neuron.length; i += 7) expect(g2.neuron[i]).toBeCloseTo(g1.neuron[i], 6);
  });

  it('masks of ones change nothing', () => {
    const m = onesMasks({ layers: 2, heads: 4, headSize: 4, intermediate: 24 });
    expect(referenceLoss(model, batch, m)).toBe(referenceLoss(model, batch));
  });
});
