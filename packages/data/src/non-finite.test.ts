import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import type { Dataset } from './dataset.js';
import { resolveLabels } from './labels.js';
import { finiteMetric, metricsForTask } from './metrics.js';

function errorOf(f: () => unknown): FmnError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FmnError);
    return e as FmnError;
  }
  throw new Error('expected an FmnError');
}

function dataset(labels: (string | number)[]): Dataset {
  return {
    kind: 'text',
    file: '/d/dev.tsv',
    files: ['/d/dev.tsv'],
    format: 'tsv',
    unit: 'line',
    labelColumn: 'label',
    skipped: 0,
    columns: { a: 'sentence' },
    examples: labels.map((label, i) => ({ a: 'x', label, file: '/d/dev.tsv', line: i + 2 })),
  };
}

describe('non-finite labels and metrics are errors', () => {
  it('regression labels NaN, Infinity, "nan" and 1e39 (infinite as float32) name file and line', () => {
    for (const [bad, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      ['nan', '"nan"'],
      [1e39, '1e+39'],
    ] as const) {
      const e = errorOf(() => resolveLabels(dataset([1.5, bad]), { num_labels: 1 }));
      expect(e.message).toBe(
        `/d/dev.tsv: line 3: regression label ${shown} is not a finite number (the model has num_labels 1)`,
      );
    }
    expect(Array.from(resolveLabels(dataset([1.5, '2.25']), { num_labels: 1 }))).toEqual([1.5, 2.25]);
  });

  it('a NaN class label is out of range, shown as NaN', () => {
    const e = errorOf(() => resolveLabels(dataset([0, NaN]), { num_labels: 2 }));
    expect(e.message).toContain('/d/dev.tsv: line 3: label NaN out of range');
  });

  it('a correlation of constant predictions is an error naming the dataset, not a NaN score', () => {
    const e = errorOf(() => metricsForTask('stsb', [2, 2, 2], [1, 2, 3], '/d/dev.tsv'));
    expect(e.message).toBe(
      '/d/dev.tsv: pearson is NaN (not a number): the predictions are all 2, and a correlation with a constant is undefined',
    );
    expect(metricsForTask('stsb', [1, 2, 4], [1, 2, 3]).metrics.spearman).toBe(1);
  });

  it('non-finite predictions are named as the cause', () => {
    const e = errorOf(() => finiteMetric('pearson', NaN, [1, NaN], [1, 2], '/d/x.jsonl'));
    expect(e.message).toContain('the model produced non-finite predictions');
    expect(finiteMetric('accuracy', 0.5, [1], [1])).toBe(0.5);
  });
});
