/**
 * Seeded paired bootstrap over a task's evaluation examples (METHOD.md section 6).
 *
 * A `PairedBootstrap` fixes, once per task, `resamples` index sets of size n drawn with
 * replacement; every model evaluated on that task is scored on the SAME index sets, so the
 * replicate-by-replicate difference of two models' scores is a paired bootstrap of their
 * difference. The draws: the mulberry32 generator (see sampling.ts) seeded with
 * `streamSeed(seed, key)`, where `key` names the task; replicate b = 0, 1, ..., resamples-1 takes
 * its indices i = 0, ..., n-1 in turn as floor(u * n). Keying the stream by task name keeps a
 * task's resamples the same whatever other tasks a run has, and independent of the other tasks'.
 *
 * Intervals are percentile intervals: the (1 - level)/2 and (1 + level)/2 quantiles of the
 * replicates, with linear interpolation between order statistics (numpy's default).
 */
import { FmnError } from '@fmn/core';
import { metricValue, pearson } from './metrics.js';
import type { MetricName } from './presets.js';
import { mulberry32 } from './sampling.js';

/** The project's bootstrap settings (METHOD.md section 6). */
export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 0;
export const BOOTSTRAP_LEVEL = 0.95;

/** FNV-1a (32-bit) of the key's UTF-16 code units, XOR the seed: the generator seed of one task's resamples. */
export function streamSeed(seed: number, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ seed) >>> 0;
}

export interface BootstrapOptions {
  /** number of resamples (default 1000) */
  readonly resamples?: number;
  /** default 0 */
  readonly seed?: number;
  /** names the stream (the task); default '' */
  readonly key?: string;
}

type Values = ArrayLike<number>;

export class PairedBootstrap {
  readonly n: number;
  readonly resamples: number;
  private readonly idx: Int32Array;

  constructor(n: number, o: BootstrapOptions = {}) {
    const resamples = o.resamples ?? BOOTSTRAP_RESAMPLES;
    const seed = o.seed ?? BOOTSTRAP_SEED;
    if (!Number.isInteger(n) || n < 1) throw new FmnError(`bootstrap over ${n} examples: need at least one`);
    if (!Number.isInteger(resamples) || resamples < 1)
      throw new FmnError(`bootstrap resamples must be a positive integer, got ${resamples}`);
    if (!Number.isInteger(seed)) throw new FmnError(`bootstrap seed must be an integer, got ${seed}`);
    this.n = n;
    this.resamples = resamples;
    this.idx = new Int32Array(n * resamples);
    const rand = mulberry32(streamSeed(seed, o.key ?? ''));
    for (let k = 0; k < this.idx.length; k++) this.idx[k] = Math.floor(rand() * n);
  }

  /** The example indices of replicate b (length n, with repeats). */
  indices(b: number): Int32Array {
    if (!Number.isInteger(b) || b < 0 || b >= this.resamples)
      throw new FmnError(`bootstrap replicate ${b} out of range 0..${this.resamples - 1}`);
    return this.idx.subarray(b * this.n, (b + 1) * this.n);
  }

  /** `statistic` of every replicate: evaluated on predictions and labels gathered at its indices. */
  replicates(
    statistic: (predictions: Values, labels: Values) => number,
    predictions: Values,
    labels: Values,
  ): Float64Array {
    if (predictions.length !== this.n || labels.length !== this.n)
      throw new FmnError(
        `bootstrap over ${this.n} examples given ${predictions.length} predictions and ${labels.length} labels`,
      );
    const p = new Float64Array(this.n);
    const l = new Float64Array(this.n);
    const out = new Float64Array(this.resamples);
    for (let b = 0; b < this.resamples; b++) {
      const ix = this.idx.subarray(b * this.n, (b + 1) * this.n);
      for (let i = 0; i < this.n; i++) {
        p[i] = predictions[ix[i]!]!;
        l[i] = labels[ix[i]!]!;
      }
      out[b] = statistic(p, l);
    }
    return out;
  }

  /** Replicates of a task score: the mean of the named metrics (as `metricsForTask` scores a task). */
  scoreReplicates(metrics: readonly MetricName[], predictions: Values, labels: Values): Float64Array {
    if (metrics.length === 0) throw new FmnError('a task score needs at least one metric');
    const each = metrics.map((m) =>
      m === 'spearman'
        ? this.spearmanReplicates(predictions, labels)
        : this.replicates((p, l) => metricValue(m, p, l), predictions, labels),
    );
    const out = new Float64Array(this.resamples);
    for (let b = 0; b < this.resamples; b++) {
      let sum = 0;
      for (const r of each) sum += r[b]!;
      out[b] = sum / metrics.length;
    }
    return out;
  }

  /**
   * Spearman's rho of every replicate, equal to `replicates(spearman, ...)` but in O(n) per
   * replicate: the examples are sorted once; a resample's average ranks follow from how often it
   * draws each group of tied values (a group drawn C times after S earlier draws ranks S + (C+1)/2,
   * exactly the rank `averageRanks` gives it).
   */
  spearmanReplicates(predictions: Values, labels: Values): Float64Array {
    if (predictions.length !== this.n || labels.length !== this.n)
      throw new FmnError(
        `bootstrap over ${this.n} examples given ${predictions.length} predictions and ${labels.length} labels`,
      );
    const px = tieGroups(predictions);
    const ly = tieGroups(labels);
    const count = new Int32Array(this.n);
    const rx = new Float64Array(this.n);
    const ry = new Float64Array(this.n);
    const out = new Float64Array(this.resamples);
    for (let b = 0; b < this.resamples; b++) {
      const ix = this.idx.subarray(b * this.n, (b + 1) * this.n);
      count.fill(0);
      for (let i = 0; i < this.n; i++) count[ix[i]!]++;
      const rankX = px.ranks(count);
      const rankY = ly.ranks(count);
      for (let i = 0; i < this.n; i++) {
        rx[i] = rankX[px.group[ix[i]!]!]!;
        ry[i] = rankY[ly.group[ix[i]!]!]!;
      }
      out[b] = pearson(rx, ry);
    }
    return out;
  }
}

/** The examples' groups of equal values, in ascending order, and each group's average rank in a resample. */
function tieGroups(x: Values): { group: Int32Array; ranks: (count: Int32Array) => Float64Array } {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const group = new Int32Array(n);
  let g = -1;
  for (let k = 0; k < n; k++) {
    if (k === 0 || x[order[k]!] !== x[order[k - 1]!]) g++;
    group[order[k]!] = g;
  }
  const groups = g + 1;
  const drawn = new Float64Array(groups);
  const rank = new Float64Array(groups);
  return {
    group,
    ranks(count) {
      drawn.fill(0);
      for (let i = 0; i < n; i++) drawn[group[i]!] += count[i]!;
      let before = 0;
      for (let k = 0; k < groups; k++) {
        rank[k] = before + (drawn[k]! + 1) / 2;
        before += drawn[k]!;
      }
      return rank;
    },
  };
}

/** Quantile q of sorted values, interpolating linearly between order statistics. */
function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Percentile interval [lo, hi] of bootstrap replicates at `level` (default 0.95). NaN replicates
 * (a correlation of a constant resample) are left out; [NaN, NaN] when every one is NaN.
 */
export function percentileInterval(replicates: Values, level = BOOTSTRAP_LEVEL): [number, number] {
  if (!(level > 0 && level < 1)) throw new FmnError(`interval level must be in (0, 1), got ${level}`);
  const finite: number[] = [];
  for (let i = 0; i < replicates.length; i++) if (!Number.isNaN(replicates[i])) finite.push(replicates[i]!);
  if (finite.length === 0) return [NaN, NaN];
  const s = Float64Array.from(finite).sort();
  return [quantileSorted(s, (1 - level) / 2), quantileSorted(s, (1 + level) / 2)];
}

/** True when the interval excludes 0 (both ends on the same side of it). */
export function excludesZero([lo, hi]: readonly [number, number]): boolean {
  return lo > 0 || hi < 0;
}
