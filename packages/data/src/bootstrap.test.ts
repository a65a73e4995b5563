import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { PairedBootstrap, excludesZero, percentileInterval, streamSeed } from './bootstrap.js';
import { accuracy, f1, matthews, pearson, spearman } from './metrics.js';
import { mulberry32 } from './sampling.js';

const catchErr = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('percentileInterval (linear interpolation between order statistics)', () => {
  it('[1, 2, 3, 4] at 50%: quantiles .25 and .75 at positions .75 and 2.25 -> [1.75, 3.25]', () => {
    expect(percentileInterval([4, 1, 3, 2], 0.5)).toEqual([1.75, 3.25]);
  });
  it('0..100 at 90%: [5, 95]', () => {
    const [lo, hi] = percentileInterval(
      Array.from({ length: 101 }, (_, i) => 100 - i),
      0.9,
    );
    expect(lo).toBeCloseTo(5, 12);
    expect(hi).toBeCloseTo(95, 12);
  });
  it('leaves NaN out: [1, 2, 3] at 50% -> [1.5, 2.5]; all NaN -> [NaN, NaN]', () => {
    expect(percentileInterval([NaN, 3, 1, NaN, 2], 0.5)).toEqual([1.5, 2.5]);
    expect(percentileInterval([NaN, NaN])).toEqual([NaN, NaN]);
  });
  it('rejects a level outside (0, 1)', () => {
    expect(isFmnError(catchErr(() => percentileInterval([1, 2], 1)))).toBe(true);
  });
  it('excludesZero', () => {
    expect(excludesZero([0.1, 0.2])).toBe(true);
    expect(excludesZero([-0.2, -0.1])).toBe(true);
    expect(excludesZero([-0.1, 0.2])).toBe(false);
    expect(excludesZero([0, 0])).toBe(false);
  });
});

describe('PairedBootstrap: the resamples', () => {
  it('streamSeed is FNV-1a 32 XOR the seed (test vectors: "" -> 0x811c9dc5, "a" -> 0xe40c292c)', () => {
    expect(streamSeed(0, '')).toBe(0x811c9dc5);
    expect(streamSeed(0, 'a')).toBe(0xe40c292c);
    expect(streamSeed(1, 'a')).toBe(0xe40c292d);
  });

  it('draws replicate by replicate, floor(u * n) from mulberry32(streamSeed(seed, key))', () => {
    const b = new PairedBootstrap(7, { resamples: 3, seed: 0, key: 'nli' });
    const rand = mulberry32(streamSeed(0, 'nli'));
    for (let r = 0; r < 3; r++) {
      expect(Array.from(b.indices(r))).toEqual(Array.from({ length: 7 }, () => Math.floor(rand() * 7)));
    }
  });

  it('is deterministic for a seed and key, and differs between keys and seeds', () => {
    const a = new PairedBootstrap(50, { key: 'x' });
    const again = new PairedBootstrap(50, { key: 'x' });
    expect(a.resamples).toBe(1000);
    for (const r of [0, 1, 999]) expect(again.indices(r)).toEqual(a.indices(r));
    expect(new PairedBootstrap(50, { key: 'y' }).indices(0)).not.toEqual(a.indices(0));
    expect(new PairedBootstrap(50, { key: 'x', seed: 1 }).indices(0)).not.toEqual(a.indices(0));
  });

  it('resamples with replacement, every example about once per replicate on average', () => {
    const n = 40;
    const b = new PairedBootstrap(n, { key: 't' });
    const counts = new Float64Array(n);
    let repeats = 0;
    for (let r = 0; r < b.resamples; r++) {
      const ix = b.indices(r);
      expect(ix.length).toBe(n);
      const seen = new Set<number>();
      for (const i of ix) {
        expect(i >= 0 && i < n).toBe(true);
        counts[i]++;
        seen.add(i);
      }
      repeats += n - seen.size;
    }
    // each example is drawn Binomial(n * 1000, 1/n) times: mean 1000, sd ~ 31.2
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(160);
    // a resample holds n (1 - (1 - 1/n)^n) ~ 25.5 distinct examples of 40
    expect(repeats / b.resamples).toBeGreaterThan(13);
    expect(repeats / b.resamples).toBeLessThan(16);
  });

  it('rejects an empty set, a bad count and mismatched inputs with FmnError', () => {
    expect(isFmnError(catchErr(() => new PairedBootstrap(0)))).toBe(true);
    expect(isFmnError(catchErr(() => new PairedBootstrap(5, { resamples: 0 })))).toBe(true);
    const b = new PairedBootstrap(3, { resamples: 2 });
    expect(isFmnError(catchErr(() => b.replicates(accuracy, [1, 0], [1, 0, 1])))).toBe(true);
    expect(isFmnError(catchErr(() => b.indices(2)))).toBe(true);
  });
});

describe('PairedBootstrap: replicates and intervals', () => {
  it('two examples, one right: replicate accuracy is 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4', () => {
    const b = new PairedBootstrap(2, { key: 'two' });
    const reps = b.replicates(accuracy, [1, 0], [1, 1]);
    const freq = (v: number) => reps.filter((x) => x === v).length / reps.length;
    expect(freq(0) + freq(0.5) + freq(1)).toBe(1);
    expect(freq(0)).toBeCloseTo(0.25, 1);
    expect(freq(0.5)).toBeCloseTo(0.5, 1);
    expect(freq(1)).toBeCloseTo(0.25, 1);
    expect(percentileInterval(reps)).toEqual([0, 1]);
  });

  it('a symmetric case: 100 of 200 right, the interval holds 0.5 and is about +/- 1.96 sqrt(.25 / 200)', () => {
    const n = 200;
    const labels = Array.from({ length: n }, () => 1);
    const preds = Array.from({ length: n }, (_, i) => i % 2);
    const [lo, hi] = percentileInterval(
      new PairedBootstrap(n, { key: 's' }).replicates(accuracy, preds, labels),
    );
    expect(lo).toBeLessThan(0.5);
    expect(hi).toBeGreaterThan(0.5);
    const half = 1.96 * Math.sqrt(0.25 / n); // 0.0693
    expect(Math.abs((hi - lo) / 2 - half)).toBeLessThan(0.012);
    expect(Math.abs((lo + hi) / 2 - 0.5)).toBeLessThan(0.012);
  });

  it('zero width when every prediction is right (accuracy, F1, Matthews = 1 in every replicate)', () => {
    const y = Array.from({ length: 30 }, (_, i) => i % 2);
    const b = new PairedBootstrap(30, { key: 'z' });
    for (const m of [accuracy, f1, matthews])
      expect(percentileInterval(b.replicates(m, y, y))).toEqual([1, 1]);
    expect(Array.from(b.scoreReplicates(['accuracy', 'f1'], y, y)).every((v) => v === 1)).toBe(true);
  });

  it('paired: the difference of two models with identical predictions is exactly 0 in every replicate', () => {
    const labels = Array.from({ length: 25 }, (_, i) => (i * 7) % 3);
    const a = labels.map((l, i) => (i % 4 === 0 ? (l + 1) % 3 : l));
    const copy = Int32Array.from(a);
    const b = new PairedBootstrap(25, { key: 'p' });
    const ra = b.scoreReplicates(['accuracy', 'matthews'], a, labels);
    const rb = b.scoreReplicates(['accuracy', 'matthews'], copy, labels);
    const delta = ra.map((x, i) => x - rb[i]!);
    expect(delta.every((d) => d === 0)).toBe(true);
    expect(percentileInterval(delta)).toEqual([0, 0]);
    // unpaired, the same scores spread: their own interval has width
    const [lo, hi] = percentileInterval(ra);
    expect(hi - lo).toBeGreaterThan(0.1);
  });

  it('paired: one example flipped from right to wrong moves each replicate by -(its count in the resample) / n', () => {
    const n = 20;
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const a = [...labels];
    const worse = [...labels];
    worse[5] = 1 - worse[5]!;
    const b = new PairedBootstrap(n, { key: 'flip' });
    const ra = b.replicates(accuracy, a, labels);
    const rw = b.replicates(accuracy, worse, labels);
    for (let r = 0; r < b.resamples; r++) {
      const count = b.indices(r).filter((i) => i === 5).length;
      expect(rw[r]! - ra[r]!).toBeCloseTo(-count / n, 12);
    }
  });

  it('every metric: replicate r is the metric of the examples at indices(r)', () => {
    const n = 15;
    const labels = Array.from({ length: n }, (_, i) => (i * 5) % 2);
    const preds = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 - labels[i]! : labels[i]!));
    const y = Array.from({ length: n }, (_, i) => ((i * 7) % 11) / 2);
    const yhat = y.map((v, i) => v + ((i * 3) % 5) - 2);
    const b = new PairedBootstrap(n, { resamples: 20, key: 'm' });
    const cases = [
      [accuracy, preds, labels],
      [f1, preds, labels],
      [matthews, preds, labels],
      [pearson, yhat, y],
      [spearman, yhat, y],
    ] as const;
    for (const [metric, p, l] of cases) {
      const reps = b.replicates(metric, p, l);
      for (let r = 0; r < 20; r++) {
        const ix = Array.from(b.indices(r));
        expect(reps[r]).toBe(
          metric(
            ix.map((i) => p[i]!),
            ix.map((i) => l[i]!),
          ),
        );
      }
    }
  });

  it("Spearman's fast path equals the metric on each gathered resample exactly, ties included", () => {
    const n = 60;
    // few distinct values on both sides: many ties, and resamples repeat examples
    const y = Array.from({ length: n }, (_, i) => ((i * 7) % 5) / 2);
    const yhat = Array.from({ length: n }, (_, i) => ((i * 11) % 9) - 4 + (i % 3 === 0 ? 0.5 : 0));
    const b = new PairedBootstrap(n, { resamples: 200, key: 'stsb' });
    const fast = b.spearmanReplicates(yhat, y);
    const slow = b.replicates(spearman, yhat, y);
    for (let r = 0; r < 200; r++) expect(fast[r]).toBe(slow[r]);
    // a constant resample side gives NaN in both
    const c = new PairedBootstrap(1, { resamples: 3 });
    expect(Array.from(c.spearmanReplicates([1], [2]))).toEqual(Array.from(c.replicates(spearman, [1], [2])));
  });

  it('scoreReplicates is the mean of the named metrics', () => {
    const y = [1, 0, 1, 1, 0, 0, 1, 0];
    const p = [1, 0, 0, 1, 1, 0, 1, 0];
    const b = new PairedBootstrap(8, { resamples: 50, key: 'mrpc' });
    const acc = b.replicates(accuracy, p, y);
    const f = b.replicates(f1, p, y);
    const s = b.scoreReplicates(['accuracy', 'f1'], p, y);
    for (let r = 0; r < 50; r++) expect(s[r]).toBe((acc[r]! + f[r]!) / 2);
    const rho = b.scoreReplicates(['pearson', 'spearman'], p, y);
    const pr = b.replicates(pearson, p, y);
    const sr = b.replicates(spearman, p, y);
    for (let r = 0; r < 50; r++) expect(rho[r]).toBe((pr[r]! + sr[r]!) / 2);
    expect(isFmnError(catchErr(() => b.scoreReplicates([], p, y)))).toBe(true);
  });
});
