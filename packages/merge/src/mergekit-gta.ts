/**
 * mergekit's generalized task arithmetic on one tensor (METHOD.md 5.7): task_arithmetic, ties,
 * dare_linear and dare_ties are this with a sparsification (none, magnitude, random) and with or
 * without sign consensus. Deltas are theta_j - base (float32, as mergekit's arithmetic in the
 * tensor's dtype), sparsified per model with that model's density, then mixed with the weights
 * (mergekitMix) and added to the base.
 */
import { FmnError } from '@fmn/core';
import { mergekitMix } from './mergekit-consensus.js';
import { bernoulliSparsify, magnitudeSparsify } from './mergekit-sparsify.js';

export type MergekitSparsification = 'magnitude' | 'random';

/** The shape of each mergekit method this covers (mergekit's registry). */
export interface MergekitVariant {
  readonly sparsification: MergekitSparsification | null;
  readonly consensus: boolean;
}

export const MERGEKIT_VARIANTS = {
  task_arithmetic: { sparsification: null, consensus: false },
  ties: { sparsification: 'magnitude', consensus: true },
  dare_linear: { sparsification: 'random', consensus: false },
  dare_ties: { sparsification: 'random', consensus: true },
} as const satisfies Record<string, MergekitVariant>;

export interface MergekitTensorOptions {
  /** per model: mergekit's `weight` */
  readonly weights: readonly number[];
  /** per model: mergekit's `density` (fraction kept; >= 1 keeps all) */
  readonly densities: readonly number[];
  readonly normalize: boolean;
  /** L1 rescale after sparsification */
  readonly rescale: boolean;
  /** scale of the mixed delta */
  readonly lambda: number;
  /** the draws of model j's random drop on this tensor (random sparsification) */
  readonly rng?: (modelIndex: number) => { next(): number };
  /** the tensor's name, for messages */
  readonly tensor?: string;
}

/**
 * base + mergekit's mixed delta, over `thetas` (each overwritten with its delta). `shares[j]`
 * gets the sum over entries of |model j's term in the mixed delta|.
 */
export function mergekitTaskArithmetic(
  variant: MergekitVariant,
  thetas: readonly Float32Array[],
  base: Float32Array,
  o: MergekitTensorOptions,
): { merged: Float32Array; shares: Float64Array } {
  const M = thetas.length;
  if (o.weights.length !== M || o.densities.length !== M) {
    throw new FmnError(
      `mergekit merge: ${M} models but ${o.weights.length} weights and ${o.densities.length} densities`,
    );
  }
  const deltas = thetas.map((t, j) => {
    for (let i = 0; i < t.length; i++) t[i] = t[i] - base[i];
    if (variant.sparsification === 'magnitude') {
      return magnitudeSparsify(t, o.densities[j], { rescale: o.rescale, tensor: o.tensor, out: t });
    }
    if (variant.sparsification === 'random') {
      if (!o.rng) throw new FmnError('mergekit random sparsification needs an rng');
      return bernoulliSparsify(t, o.densities[j], o.rng(j), { rescale: o.rescale, out: t });
    }
    return t;
  });
  const shares = new Float64Array(M);
  const mixed = mergekitMix(
    deltas,
    o.weights,
    { consensus: variant.consensus, normalize: o.normalize, lambda: o.lambda },
    shares,
  );
  for (let i = 0; i < mixed.length; i++) mixed[i] = base[i] + mixed[i];
  return { merged: mixed, shares };
}
