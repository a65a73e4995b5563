import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { PairedBootstrap, accuracy, percentileInterval } from '@fmn/data';
import { runIntervals, type EvaluatedMerge, type ExampleEval } from './intervals.js';

const N = 120;
const labels = Array.from({ length: N }, (_, i) => i % 2);

/** accuracy-scored predictions: right on the examples where `right(i)` holds */
function acc(right: (i: number) => boolean): ExampleEval {
  const predictions = labels.map((l, i) => (right(i) ? l : 1 - l));
  return { score: accuracy(predictions, labels), metricNames: ['accuracy'], predictions, labels };
}

const half = acc((i) => i % 4 < 2); // 60 of 120
const most = acc((i) => i % 10 !== 0); // 108 of 120

function merge(method: string, tasks: string[], e: (t: string) => ExampleEval): EvaluatedMerge {
  return { method, tasks, evals: Object.fromEntries(tasks.map((t) => [t, e(t)])) };
}

describe('runIntervals', () => {
  const tasks = [
    { name: 'a', finetuned: most },
    { name: 'b', finetuned: most },
  ];

  it('a fine-tuned interval is the percentile interval of the task-keyed bootstrap, whatever the other tasks', () => {
    const iv = runIntervals(tasks, [], ['average']);
    const direct = percentileInterval(
      new PairedBootstrap(N, { key: 'a' }).scoreReplicates(['accuracy'], most.predictions, most.labels),
    );
    expect(iv.finetuned.a).toEqual(direct);
    expect(iv.finetuned.a[0]).toBeLessThan(0.9);
    expect(iv.finetuned.a[1]).toBeGreaterThan(0.9);
    // a run of task a alone resamples it the same way
    expect(runIntervals([tasks[0]!], [], []).finetuned.a).toEqual(direct);
    expect(iv.bootstrap).toMatchObject({ resamples: 1000, seed: 0, level: 0.95 });
  });

  it('a method identical to average: delta 0 with the zero-width interval [0, 0], not significant', () => {
    const merges = [
      merge('average', ['a', 'b'], () => half),
      merge('copy', ['a', 'b'], () => acc((i) => i % 4 < 2)),
    ];
    const iv = runIntervals(tasks, merges, ['average', 'copy']);
    expect(iv.comparisons).toEqual([
      { method: 'copy', baseline: 'average', k: 2, delta: 0, ci95: [0, 0], significant: false, pairs: 2 },
    ]);
  });

  it('a clearly better method: delta is the mean over tasks of the score differences, significant', () => {
    // on a: 0.9 vs 0.5; on b: 0.5 vs 0.5 -> delta (0.4 + 0) / 2 = 0.2
    const merges = [
      merge('average', ['a', 'b'], () => half),
      merge('better', ['a', 'b'], (t) => (t === 'a' ? most : half)),
    ];
    const [c] = runIntervals(tasks, merges, ['average', 'better']).comparisons;
    expect(c!.delta).toBeCloseTo(0.2, 14);
    expect(c!.significant).toBe(true);
    expect(c!.ci95[0]).toBeGreaterThan(0.1);
    expect(c!.ci95[1]).toBeLessThan(0.3);
    expect(c!.ci95[0]).toBeLessThan(0.2);
    expect(c!.ci95[1]).toBeGreaterThan(0.2);
  });

  it('paired: one example right under average and wrong under the method moves every replicate by -count/(2N)', () => {
    const worse = acc((i) => i !== 0 && i % 4 < 2);
    const almost = acc((i) => i % 4 < 2);
    const merges = [
      merge('average', ['a', 'b'], () => half),
      merge('w', ['a', 'b'], (t) => (t === 'a' ? worse : almost)),
    ];
    const [c] = runIntervals(tasks, merges, ['average', 'w']).comparisons;
    expect(c!.delta).toBeCloseTo(-1 / (2 * N), 14);
    // example 0 is missing from about 37% of resamples: the upper end is exactly 0
    expect(c!.ci95[1]).toBe(0);
    // it is drawn at most ~4 times in 97.5% of them (Binomial(120, 1/120))
    expect(c!.ci95[0]).toBeLessThanOrEqual(-1 / (2 * N));
    expect(c!.ci95[0]).toBeGreaterThanOrEqual(-5 / (2 * N));
    expect(c!.significant).toBe(false);
  });

  it('table cells: the interval of a mean over combinations; the average column over tasks', () => {
    const three = [...tasks, { name: 'c', finetuned: most }];
    const merges = [
      merge('average', ['a', 'b'], () => half),
      merge('average', ['a', 'c'], () => half),
      merge('average', ['b', 'c'], () => half),
    ];
    const iv = runIntervals(three, merges, ['average']);
    expect(iv.tableIntervals.map((x) => `${x.k}:${x.row}`)).toEqual(['2:fine-tuned', '2:average']);
    const avg = iv.tableIntervals[1]!;
    // task a's cell averages two merges with identical predictions: the same as one of them
    expect(avg.tasks.a).toEqual(iv.merges[0]!.a);
    expect(avg.tasks.a).toEqual(iv.merges[1]!.a);
    // the mean over three tasks with independent resamples is narrower than any one task's
    const w = (x: readonly [number, number]) => x[1] - x[0];
    expect(w(avg.average)).toBeLessThan(w(avg.tasks.a!));
    expect(iv.comparisons).toEqual([]);
  });

  it('every k gets its comparison; methods without average merges of the same tasks are left out', () => {
    const three = [...tasks, { name: 'c', finetuned: most }];
    const merges = [
      merge('average', ['a', 'b'], () => half),
      merge('x', ['a', 'b'], () => most),
      merge('average', ['a', 'b', 'c'], () => half),
      merge('x', ['a', 'b', 'c'], () => half),
      merge('y', ['a', 'c'], () => most),
    ];
    const iv = runIntervals(three, merges, ['average', 'x', 'y']);
    expect(iv.comparisons.map((c) => [c.method, c.k, c.pairs])).toEqual([
      ['x', 2, 2],
      ['x', 3, 3],
    ]);
    expect(iv.comparisons[1]!.delta).toBe(0);
  });

  it('a merged model evaluated on other examples than the fine-tuned one is an FmnError', () => {
    const short: ExampleEval = { score: 1, metricNames: ['accuracy'], predictions: [1, 0], labels: [1, 0] };
    const e = (() => {
      try {
        return runIntervals(tasks, [merge('average', ['a', 'b'], () => short)], ['average']);
      } catch (x) {
        return x;
      }
    })();
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toMatch(/task "a".*2 examples.*120/);
  });
});
