/**
 * GLUE metrics (METHOD.md section 6), computed in float64. Conventions follow scikit-learn /
 * scipy as GLUE's evaluation uses them: F1 of the positive class 1; Matthews correlation in its
 * multiclass form (equal to the binary phi coefficient for two classes), 0 when undefined;
 * Pearson r; Spearman rho = Pearson r of the ranks, tied values getting their average rank.
 */
import { FmnError } from '@fmn/core';
import { findTaskPreset, type MetricName, type TaskPreset } from './presets.js';

type Values = ArrayLike<number>;

function checkLengths(a: Values, b: Values): void {
  if (a.length !== b.length)
    throw new FmnError(`metric inputs differ in length: ${a.length} predictions, ${b.length} labels`);
  if (a.length === 0) throw new FmnError('metric of an empty set');
}

/** Fraction of predictions equal to the labels. */
export function accuracy(predictions: Values, labels: Values): number {
  checkLengths(predictions, labels);
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) ok++;
  return ok / labels.length;
}

/** Binary F1 of class 1: 2TP / (2TP + FP + FN); 0 when there are no positives at all. */
export function f1(predictions: Values, labels: Values): number {
  checkLengths(predictions, labels);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i] === 1;
    const l = labels[i] === 1;
    if (p && l) tp++;
    else if (p) fp++;
    else if (l) fn++;
  }
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d;
}

/**
 * Matthews correlation coefficient (Gorodkin's multiclass form, as scikit-learn):
 * (c*s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2)(s^2 - sum_k t_k^2)), with s samples, c correct,
 * p_k / t_k the counts predicted / true of class k. 0 when the denominator is 0.
 */
export function matthews(predictions: Values, labels: Values): number {
  checkLengths(predictions, labels);
  const pred = new Map<number, number>();
  const truth = new Map<number, number>();
  let c = 0;
  const s = labels.length;
  for (let i = 0; i < s; i++) {
    const p = predictions[i]!;
    const t = labels[i]!;
    pred.set(p, (pred.get(p) ?? 0) + 1);
    truth.set(t, (truth.get(t) ?? 0) + 1);
    if (p === t) c++;
  }
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (const [k, n] of pred) {
    pt += n * (truth.get(k) ?? 0);
    pp += n * n;
  }
  for (const n of truth.values()) tt += n * n;
  const d = Math.sqrt((s * s - pp) * (s * s - tt));
  return d === 0 ? 0 : (c * s - pt) / d;
}

/** Pearson correlation; NaN when either input is constant. */
export function pearson(x: Values, y: Values): number {
  checkLengths(x, y);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks, ties sharing the average of the ranks they span. */
export function averageRanks(x: Values): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation: Pearson of the average ranks. */
export function spearman(x: Values, y: Values): number {
  checkLengths(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/** Class predictions from [N, numLabels] logits (first maximum wins). */
export function argmaxRows(logits: Values, numLabels: number): Int32Array {
  const n = logits.length / numLabels;
  if (!Number.isInteger(n))
    throw new FmnError(`${logits.length} logits do not divide into rows of ${numLabels}`);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < numLabels; k++)
      if (logits[r * numLabels + k]! > logits[r * numLabels + best]!) best = k;
    out[r] = best;
  }
  return out;
}

const METRIC_FNS: Record<MetricName, (p: Values, l: Values) => number> = {
  accuracy,
  f1,
  matthews,
  pearson,
  spearman,
};

/** One metric by name (accuracy, f1, matthews, pearson, spearman). */
export function metricValue(name: MetricName, predictions: Values, labels: Values): number {
  const fn = METRIC_FNS[name];
  if (!fn) throw new FmnError(`unknown metric "${String(name)}"`);
  return fn(predictions, labels);
}

/**
 * `value` when it is a finite number; otherwise an FmnError saying why the metric is undefined
 * (a correlation of constant predictions or labels, or non-finite predictions), naming `file`
 * (the dataset) when given. A NaN metric is never reported as a result.
 */
export function finiteMetric(
  name: MetricName,
  value: number,
  predictions: Values,
  labels: Values,
  file?: string,
): number {
  if (Number.isFinite(value)) return value;
  let why = 'check the predictions and labels';
  const isConstant = (v: Values) => v.length > 0 && Array.prototype.every.call(v, (x: number) => x === v[0]);
  if (!Array.prototype.every.call(predictions, (x: number) => Number.isFinite(x))) {
    why = 'the model produced non-finite predictions (NaN or infinity)';
  } else if (!Array.prototype.every.call(labels, (x: number) => Number.isFinite(x))) {
    why = 'some labels are not finite numbers';
  } else if ((name === 'pearson' || name === 'spearman') && isConstant(predictions)) {
    why = `the predictions are all ${predictions[0]}, and a correlation with a constant is undefined`;
  } else if ((name === 'pearson' || name === 'spearman') && isConstant(labels)) {
    why = `the labels are all ${labels[0]}, and a correlation with a constant is undefined`;
  } else if (predictions.length === 0) {
    why = 'there are no examples';
  }
  throw new FmnError(`${name} is ${value} (not a number): ${why}`, file);
}

export interface TaskMetrics {
  /** each of the task's metrics by name */
  readonly metrics: Partial<Record<MetricName, number>>;
  /** the task's GLUE score: the mean of its metrics (acc & F1 for MRPC/QQP, Pearson & Spearman for STS-B) */
  readonly score: number;
}

/**
 * The metrics METHOD.md section 6 reports for a GLUE task. `predictions` are class ids for
 * classification tasks (see `argmaxRows`) or predicted scores for STS-B; `labels` likewise.
 * A metric that is not a finite number is an FmnError (see `finiteMetric`) naming `file`.
 */
export function metricsForTask(
  task: TaskPreset | string,
  predictions: Values,
  labels: Values,
  file?: string,
): TaskMetrics {
  const preset = typeof task === 'string' ? findTaskPreset(task) : task;
  if (!preset) throw new FmnError(`unknown task "${String(task)}"`);
  const metrics: Partial<Record<MetricName, number>> = {};
  let sum = 0;
  for (const m of preset.metrics) {
    const v = finiteMetric(m, METRIC_FNS[m](predictions, labels), predictions, labels, file);
    metrics[m] = v;
    sum += v;
  }
  return { metrics, score: sum / preset.metrics.length };
}
