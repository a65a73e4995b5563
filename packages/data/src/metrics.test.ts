import { describe, expect, it } from 'vitest';
import {
  accuracy,
  argmaxRows,
  averageRanks,
  f1,
  matthews,
  metricsForTask,
  pearson,
  spearman,
} from './metrics.js';

// predictions / labels: TP at 0 and 3, TN at 1, FP at 2, FN at 4
const P = [1, 0, 1, 1, 0];
const L = [1, 0, 0, 1, 1];

describe('classification metrics (hand-computed)', () => {
  it('accuracy = 3/5', () => expect(accuracy(P, L)).toBe(0.6));
  it('F1 of class 1 = 2*2 / (2*2 + 1 + 1) = 2/3', () => expect(f1(P, L)).toBeCloseTo(2 / 3, 15));
  it('F1 is 0 without any positive', () => expect(f1([0, 0], [0, 0])).toBe(0));
  it('Matthews binary = (TP*TN - FP*FN) / sqrt(3*3*2*2) = 1/6', () =>
    expect(matthews(P, L)).toBeCloseTo(1 / 6, 15));
  it('Matthews multiclass: (c*s - sum p_k t_k) / sqrt((s^2 - sum p^2)(s^2 - sum t^2)) = (12 - 5) / 10', () => {
    expect(matthews([0, 1, 2, 2], [0, 1, 1, 2])).toBeCloseTo(0.7, 15);
  });
  it('Matthews is 0 for a constant prediction', () => expect(matthews([1, 1, 1], [0, 1, 1])).toBe(0));
  it('Matthews is 1 / -1 for perfect / inverted binary predictions', () => {
    expect(matthews([0, 1, 1, 0], [0, 1, 1, 0])).toBe(1);
    expect(matthews([1, 0, 0, 1], [0, 1, 1, 0])).toBe(-1);
  });
});

describe('correlations (hand-computed)', () => {
  it('Pearson = 11 / sqrt(5 * 26)', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 5, 9])).toBeCloseTo(11 / Math.sqrt(130), 14);
  });
  it('average ranks share ties', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30, 10]))).toEqual([2, 4, 2, 5, 2]);
  });
  it('Spearman with ties = Pearson of average ranks = 7.25 / 9.5', () => {
    // ranks x: [1, 2.5, 2.5, 4, 5]; ranks y: [2, 1, 3.5, 3.5, 5]; both centered at 3
    // sum dx*dy = 2 + 1 - 0.25 + 0.5 + 4 = 7.25; sum dx^2 = sum dy^2 = 9.5
    // (the no-ties shortcut 1 - 6*sum d^2/(n(n^2-1)) would give 0.775)
    expect(spearman([1, 2, 2, 3, 5], [2, 1, 3, 3, 4])).toBeCloseTo(29 / 38, 14);
  });
  it('Spearman is invariant to monotone transforms', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 1000])).toBeCloseTo(1, 14);
  });
});

describe('metricsForTask', () => {
  it('MRPC: accuracy and F1, score their mean', () => {
    const m = metricsForTask('mrpc', P, L);
    expect(m.metrics).toEqual({ accuracy: 0.6, f1: expect.closeTo(2 / 3, 14) as number });
    expect(m.score).toBeCloseTo((0.6 + 2 / 3) / 2, 14);
  });
  it('CoLA: Matthews only', () => {
    expect(metricsForTask('CoLA', P, L)).toEqual({
      metrics: { matthews: expect.closeTo(1 / 6, 14) as number },
      score: expect.closeTo(1 / 6, 14) as number,
    });
  });
  it('STS-B: Pearson and Spearman', () => {
    const m = metricsForTask('sts-b', [1, 2, 2, 3, 5], [2, 1, 3, 3, 4]);
    expect(Object.keys(m.metrics)).toEqual(['pearson', 'spearman']);
    expect(m.metrics.spearman).toBeCloseTo(29 / 38, 14);
  });
  it('SST-2 / MNLI / QNLI / RTE / WNLI: accuracy', () => {
    for (const t of ['sst2', 'mnli', 'qnli', 'rte', 'wnli'])
      expect(Object.keys(metricsForTask(t, P, L).metrics)).toEqual(['accuracy']);
  });
});

it('argmaxRows picks the first maximum per row', () => {
  expect(Array.from(argmaxRows([0.1, 0.9, 0.5, 0.2, 0.3, 0.3], 2))).toEqual([1, 0, 0]);
  expect(Array.from(argmaxRows([0, 1, 2, 5, 4, 3], 3))).toEqual([2, 0]);
});
