import { describe, expect, it } from 'vitest';
import { labelNames, predictionTable, predictionsFromLogits, softmax } from './predictions.js';

describe('predictions from logits', () => {
  it('label names from id2label, LABEL_i where it has none', () => {
    expect(labelNames({ id2label: { 0: 'negative', 1: 'positive' } }, 2)).toEqual(['negative', 'positive']);
    expect(labelNames({ id2label: { 1: 'b' } }, 3)).toEqual(['LABEL_0', 'b', 'LABEL_2']);
    expect(labelNames({}, 2)).toEqual(['LABEL_0', 'LABEL_1']);
  });

  it('softmax: exp(x_i) / sum exp(x_j), stable for large logits', () => {
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    const big = softmax([1000, 1000, 1000]);
    for (const x of big) expect(x).toBeCloseTo(1 / 3, 12);
  });

  it('one row per example: the most probable label, probabilities, logits, and the id when given', () => {
    const config = { id2label: { 0: 'neg', 1: 'neu', 2: 'pos' } };
    const logits = Float32Array.from([0, 0, 2, 3, 1, 1]);
    const rows = predictionsFromLogits(logits, 3, config, ['a', 7]);
    expect(rows.map((r) => Object.keys(r))).toEqual([
      ['id', 'label', 'probabilities', 'logits'],
      ['id', 'label', 'probabilities', 'logits'],
    ]);
    expect(rows[0]).toMatchObject({ id: 'a', label: 'pos', logits: [0, 0, 2] });
    expect(rows[1]).toMatchObject({ id: 7, label: 'neg', logits: [3, 1, 1] });
    const e2 = Math.exp(2);
    const p0 = (rows[0] as { probabilities: number[] }).probabilities;
    expect(p0[2]).toBeCloseTo(e2 / (2 + e2), 6);
    expect(Object.keys(predictionsFromLogits(logits, 3, config)[0])).toEqual([
      'label',
      'probabilities',
      'logits',
    ]);
  });

  it('a regression head gives {score}; a multi-label config gives per-label sigmoids', () => {
    expect(predictionsFromLogits(Float32Array.from([0.5, -2]), 1, {})).toEqual([
      { score: 0.5 },
      { score: -2 },
    ]);
    const [r] = predictionsFromLogits(Float32Array.from([0, 0]), 2, {
      problem_type: 'multi_label_classification',
    });
    expect((r as { probabilities: number[] }).probabilities).toEqual([0.5, 0.5]);
  });

  it('a table: a header, one line per example, long texts cut to the width', () => {
    const rows = predictionsFromLogits(Float32Array.from([0, 1, 2, 0]), 2, {
      id2label: { 0: 'no', 1: 'yes' },
    });
    const lines = predictionTable(rows, ['short', 'x'.repeat(200)], 60);
    expect(lines).toHaveLength(3);
    expect(lines[0].split(/\s+/)).toEqual(['label', 'prob', 'text']);
    expect(lines[1]).toMatch(/^yes\s+0\.7311\s+short$/);
    expect(lines[2].length).toBeLessThanOrEqual(60);
    expect(lines[2]).toMatch(/^no\s+0\.8808\s+x+…$/);
    const scores = predictionTable([{ id: 3, score: 1.25 }], ['t']);
    expect(scores).toEqual(['id  score   text', '3   1.2500  t']);
  });
});
