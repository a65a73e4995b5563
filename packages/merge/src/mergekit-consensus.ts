/**
 * mergekit's combination of (sparsified) task vectors for one tensor (METHOD.md 5.7; mergekit's
 * `generalized_task_arithmetic.py`) and its `linear` average. Per entry, with weights w_j and
 * deltas d_j, the weighted deltas are w_j d_j. With sign consensus (ties, dare_ties) the elected
 * sign is + when sum_j w_j d_j >= 0 (a zero sum elects +), - otherwise; model j agrees when
 * sign(w_j d_j) equals it (a zero entry never agrees); the mix is the sum of the agreeing weighted
 * deltas and the divisor the sum of the agreeing models' weights (1 when none agrees). Without
 * consensus (task_arithmetic, dare_linear) the mix is sum_j w_j d_j and the divisor sum_j w_j
 * (1 when its magnitude is below 1e-8). `normalize` divides the mix by the divisor; lambda scales
 * the result. Sums are taken in float64 and rounded once to float32.
 */
import { FmnError } from '@fmn/core';

export interface MergekitMixOptions {
  /** elect a sign per entry ("sum" consensus) and mix only the agreeing deltas */
  readonly consensus: boolean;
  /** divide by the (agreeing) weights' sum */
  readonly normalize: boolean;
  /** scale of the mixed delta (mergekit's `lambda`, default 1) */
  readonly lambda?: number;
}

/** Below this |sum of weights| the divisor without consensus is 1 (mergekit's guard). */
export const MERGEKIT_DIVISOR_EPS = 1e-8;

/**
 * The mixed task vector lambda * mix / (normalize ? divisor : 1) of one tensor. `contrib[j]` (when
 * given) gets the sum over entries of |model j's term in it|, for the report's shares.
 */
export function mergekitMix(
  deltas: readonly Float32Array[],
  weights: readonly number[],
  options: MergekitMixOptions,
  contrib?: Float64Array,
): Float32Array {
  const M = deltas.length;
  if (weights.length !== M) throw new FmnError(`mergekitMix: ${M} deltas but ${weights.length} weights`);
  const n = deltas[0]?.length ?? 0;
  const lambda = options.lambda ?? 1;
  const out = new Float32Array(n);
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  const plainDivisor = Math.abs(weightSum) < MERGEKIT_DIVISOR_EPS ? 1 : weightSum;
  for (let i = 0; i < n; i++) {
    let mix = 0;
    let divisor: number;
    let elected = 0;
    if (options.consensus) {
      let s = 0;
      for (let j = 0; j < M; j++) s += weights[j] * deltas[j][i];
      elected = s >= 0 ? 1 : -1;
      divisor = 0;
      for (let j = 0; j < M; j++) {
        const wd = weights[j] * deltas[j][i];
        if (Math.sign(wd) === elected) {
          mix += wd;
          divisor += weights[j];
        }
      }
      if (divisor === 0) divisor = 1;
    } else {
      for (let j = 0; j < M; j++) mix += weights[j] * deltas[j][i];
      divisor = plainDivisor;
    }
    const scale = (options.normalize ? 1 / divisor : 1) * lambda;
    out[i] = mix * scale;
    if (contrib) {
      for (let j = 0; j < M; j++) {
        const wd = weights[j] * deltas[j][i];
        if (!options.consensus || Math.sign(wd) === elected) contrib[j] += Math.abs(wd * scale);
      }
    }
  }
  return out;
}

/**
 * mergekit's `linear`: sum_j w_j theta_j, divided by sum_j w_j when `normalize` (its default). A
 * zero weight sum under `normalize` is an error (mergekit would divide by zero).
 */
export function mergekitLinear(
  thetas: readonly Float32Array[],
  weights: readonly number[],
  normalize: boolean,
): Float32Array {
  const M = thetas.length;
  if (weights.length !== M) throw new FmnError(`mergekitLinear: ${M} tensors but ${weights.length} weights`);
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  if (normalize && weightSum === 0) {
    throw new FmnError("linear with normalize: the models' weights sum to 0");
  }
  const n = thetas[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < M; j++) s += weights[j] * thetas[j][i];
    out[i] = normalize ? s / weightSum : s;
  }
  return out;
}
