import { describe, expect, it } from 'vitest';
import { noiseLine, signedInterval, signedPoints, standing, verdict } from './comparisons.js';
import type { ReportComparison } from './types.js';

const c = (method: string, k: number, delta: number, lo: number, hi: number): ReportComparison => ({
  method,
  baseline: 'average',
  k,
  delta,
  ci95: [lo, hi],
  significant: lo > 0 || hi < 0,
  pairs: 6,
});

describe('comparison wording', () => {
  it('standing follows the side of 0 the interval is on', () => {
    expect(standing(c('a', 2, 0.01, 0.002, 0.02))).toBe('beats');
    expect(standing(c('a', 2, -0.01, -0.02, -0.001))).toBe('loses');
    expect(standing(c('a', 2, 0.01, -0.002, 0.02))).toBe('within noise');
  });

  it('signed points x 100', () => {
    expect(signedPoints(0.0123)).toBe('+1.23');
    expect(signedPoints(-0.004)).toBe('-0.40');
    expect(signedPoints(0)).toBe('0.00');
    expect(signedPoints(-0.00001)).toBe('0.00');
    expect(signedPoints(NaN)).toBe('-');
    expect(signedInterval([-0.01, 0.025])).toBe('[-1.00, +2.50]');
  });

  it('noiseLine names who beats, who loses and who is within noise', () => {
    const k2 = [
      c('fisher', 2, 0.002, -0.003, 0.007),
      c('fisher-nodes', 2, 0.012, 0.004, 0.02),
      c('ties', 2, -0.03, -0.04, -0.02),
      c('task-arithmetic', 2, -0.01, -0.02, -0.001),
    ];
    expect(noiseLine(k2)).toBe(
      'Beyond noise: fisher-nodes beats average; ties and task-arithmetic lose to average. Within noise: fisher.',
    );
    expect(noiseLine([c('fisher', 2, 0.002, -0.003, 0.007)])).toMatch(
      /^No method differs from average beyond noise/,
    );
    expect(noiseLine([])).toBe('No method was compared with average.');
  });

  it('verdict: one sentence over every k, with the differences in points', () => {
    const cs = [
      c('fisher', 2, 0.002, -0.003, 0.007),
      c('fisher', 3, 0.001, -0.004, 0.006),
      c('fisher-nodes', 2, 0.012, 0.004, 0.02),
      c('fisher-nodes', 3, 0.008, 0.001, 0.015),
      c('ties', 2, -0.03, -0.04, -0.02),
      c('ties', 3, 0.001, -0.01, 0.012),
      c('dare', 2, 0.02, 0.01, 0.03),
      c('dare', 3, -0.02, -0.03, -0.01),
    ];
    expect(verdict(cs)).toBe(
      'Beyond noise (95% paired bootstrap over the evaluation examples), fisher-nodes beats average ' +
        '(+1.20 points with 2 tasks merged, +0.80 points with 3 tasks merged); ties loses to average ' +
        '(-3.00 points with 2 tasks merged); dare beats average (+2.00 points with 2 tasks merged) but loses to it ' +
        '(-2.00 points with 3 tasks merged); fisher is within noise of it.',
    );
    expect(verdict([c('fisher', 2, 0.002, -0.003, 0.007), c('ties', 2, 0.002, -0.003, 0.007)])).toBe(
      'No method differs from average beyond noise: every 95% paired-bootstrap interval of the difference contains 0 (fisher and ties).',
    );
    expect(verdict([])).toMatch(/no average merges/);
  });
});
