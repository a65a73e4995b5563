import { describe, expect, it } from 'vitest';
import { padBatch, randomBatch, sliceBatch } from './batches.js';
import { FLAVOURS, randomEncoder } from './encoders.js';
import { referenceHidden, referenceLogits, referenceLoss, referenceMaskGradients } from './reference.js';
import { referenceGrams, referenceModelMaskFisher } from './reference-fisher.js';

describe('referenceModelMaskFisher', () => {
  const model = randomEncoder('bert', { seed: 3, numLabels: 3 });
  const batch = randomBatch(model, { seed: 4, size: 2, seqLen: 5 });

  it('equals the label Fisher of every class weighted by its probability (an independent route)', () => {
    // d CE(c)/dm = -d log p(c)/dm, so sum_c p_c (dCE_c/dm)^2 per example is the model Fisher
    const F = referenceModelMaskFisher(model, batch);
    const head = new Float64Array(F.head.length);
    for (let i = 0; i < batch.size; i++) {
      const one = sliceBatch(batch, i);
      // the class probabilities from the loss: p_c = exp(-CE_c)
      for (let c = 0; c < 3; c++) {
        const withLabel = { ...one, labels: Float32Array.of(c) };
        const g = referenceMaskGradients(model, withLabel);
        const p = Math.exp(-referenceLoss(model, withLabel));
        g.head.forEach((v, k) => (head[k] += p * v * v));
      }
    }
    for (let k = 0; k < head.length; k++) expect(F.head[k]).toBeCloseTo(head[k], 7);
  });

  it('regression: the sum of squared output gradients equals the squared-error gradient at a target 0.5 below', () => {
    const reg = randomEncoder('roberta', { seed: 5, numLabels: 1 });
    const one = sliceBatch(randomBatch(reg, { seed: 6, size: 1, seqLen: 4 }), 0);
    const F = referenceModelMaskFisher(reg, one);
    // d (y - t)^2/dm = 2 (y - t) dy/dm = dy/dm when t = y - 0.5
    const y = referenceLogits(reg, one)[0];
    const g = referenceMaskGradients(reg, { ...one, labels: Float32Array.of(y - 0.5) });
    for (let k = 0; k < F.head.length; k++) expect(F.head[k]).toBeCloseTo(g.head[k] ** 2, 5);
  });
});

describe.each(FLAVOURS)('referenceGrams %s', (flavour) => {
  const model = randomEncoder(flavour, { seed: 3 });
  const batch = randomBatch(model, { seed: 4 });
  const grams = referenceGrams(model, batch);

  it('covers every encoder Linear and the first head Linear, each [in, in] and symmetric', () => {
    const names = new Set<string>();
    if (model.embeddings.project) names.add(model.embeddings.project.weight.name);
    for (const l of model.layers)
      for (const lin of [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output])
        names.add(lin.weight.name);
    if (model.head?.kind === 'classification') names.add(model.head.steps[0].linear.weight.name);
    expect(new Set(grams.keys())).toEqual(names);
    for (const [name, g] of grams) {
      const n = Math.round(Math.sqrt(g.length));
      expect(n * n, name).toBe(g.length);
      for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) expect(g[r * n + c]).toBe(g[c * n + r]);
    }
  });

  it('ignores padding tokens', () => {
    const padded = referenceGrams(model, padBatch(batch, 3, model.dims.padTokenId));
    for (const [name, g] of grams) {
      const p = padded.get(name)!;
      for (let i = 0; i < g.length; i++) expect(p[i]).toBeCloseTo(g[i], 9);
    }
  });

  it("the first head Linear's trace is the sum of token 0's squared norms", () => {
    if (model.head?.kind !== 'classification') throw new Error('no head');
    const g = grams.get(model.head.steps[0].linear.weight.name)!;
    const n = model.dims.hidden;
    let trace = 0;
    for (let i = 0; i < n; i++) trace += g[i * n + i];
    let expected = 0;
    for (let b = 0; b < batch.size; b++)
      for (const v of referenceHidden(model, batch, b)[0]) expected += v * v;
    expect(trace).toBeCloseTo(expected, 9);
  });
});
