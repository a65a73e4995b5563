/**
 * ties (METHOD.md 5.3): each task vector lambda_j tau_j trimmed to its top-k% magnitudes over the
 * whole model, signs elected per entry (zero sums take the model-wide majority sign), the disjoint
 * mean of the agreeing values added to the base. `prepare` finds the exact per-model thresholds
 * and the majority sign in up to three streaming passes; dare reuses both with its dropped vectors.
 */
import { checkTopK, electAndDisjointMeanInPlace, MagnitudeSelector, trimBelow } from '../taskvectors.js';
import { numberOption, type MergeMethodSpec, type MethodContext, type MethodOption } from './spec.js';
import { fromBase, SCALE_OPTION, TASK_VECTOR_SHARES, taskVectors } from './task-vector.js';

export const TOP_K_OPTION: MethodOption = {
  key: 'k',
  type: 'number',
  default: 20,
  flag: '--ties-k',
  help: 'keep the top k% magnitudes of each task vector',
  validate: (v) => checkTopK(v as number),
};

export interface TiesState {
  /** per model: keep |tau| >= threshold */
  readonly thresholds: number[];
  readonly majoritySign: number;
}

/**
 * TIES over the whole model: exact per-model top-k% thresholds (two passes of a radix select) and
 * the majority sign (a third pass) of the task vectors `tausOf` gives.
 */
export async function tiesAnalysis(
  ctx: MethodContext,
  tausOf: (name: string) => Promise<Float32Array[]>,
  k: number,
): Promise<TiesState> {
  const selectors = Array.from({ length: ctx.models }, () => new MagnitudeSelector(k));
  for (const [index, name] of ctx.tensors.entries()) {
    ctx.progress(1, name, index);
    (await tausOf(name)).forEach((t, j) => selectors[j].addFirst(t));
  }
  const second = selectors.map((s) => s.finishFirst());
  if (second.some(Boolean)) {
    for (const [index, name] of ctx.tensors.entries()) {
      ctx.progress(2, name, index);
      (await tausOf(name)).forEach((t, j) => {
        if (second[j]) selectors[j].addSecond(t);
      });
    }
  }
  const thresholds = selectors.map((s) => s.threshold());
  let signTotal = 0;
  for (const [index, name] of ctx.tensors.entries()) {
    ctx.progress(3, name, index);
    const trimmed = (await tausOf(name)).map((t, j) => trimBelow(t, thresholds[j], t));
    const n = trimmed[0].length;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const t of trimmed) s += t[i];
      signTotal += Math.sign(s);
    }
  }
  return { thresholds, majoritySign: Math.sign(signTotal) };
}

/**
 * Trim, elect, disjoint mean of one tensor's task vectors (overwrites `taus`; the result is
 * `taus[0]`); shares into `shares`.
 */
export function tiesCombine(taus: Float32Array[], state: TiesState, shares: Float64Array): Float32Array {
  const trimmed = taus.map((t, j) => trimBelow(t, state.thresholds[j], t));
  return electAndDisjointMeanInPlace(trimmed, state.majoritySign, shares);
}

export const ties: MergeMethodSpec<TiesState> = {
  name: 'ties',
  description: 'TIES-merging: trim each task vector to its top k%, elect signs, disjoint mean',
  needs: { base: true },
  options: [TOP_K_OPTION, SCALE_OPTION],
  shares: TASK_VECTOR_SHARES,
  search: 'scale',
  prepare: (ctx) =>
    tiesAnalysis(ctx, async (name) => (await taskVectors(ctx, name)).taus, numberOption(ctx.options, 'k')),
  mergeTensor: async (ctx, t, state) => {
    const { taus, baseValues } = await taskVectors(ctx, t.name);
    const shares = new Float64Array(ctx.models);
    const combined = tiesCombine(taus, state, shares);
    return { merged: fromBase(baseValues, combined, numberOption(ctx.options, 'scale')), shares };
  },
  report: (ctx, state) => ({
    scale: numberOption(ctx.options, 'scale'),
    ties: {
      k: numberOption(ctx.options, 'k'),
      thresholds: state.thresholds,
      majoritySign: state.majoritySign,
    },
  }),
};
