/**
 * ties (METHOD.md 5.3): each task vector lambda_j tau_j trimmed to its top-k% magnitudes over the
 * whole model, signs elected per entry (zero sums take the model-wide majority sign), the disjoint
 * mean of the agreeing values added to the base. `prepare` finds the exact per-model thresholds
 * and the majority sign in up to three streaming passes; dare reuses both with its dropped vectors.
 * Given those, every merged entry depends on that entry alone: both the passes and the merge read
 * a large tensor a block of rows at a time (the engine's row blocks), with the same result.
 */
import type { RowRange } from '@fmn/core';
import { checkTopK, electAndDisjointMeanInPlace, MagnitudeSelector, trimBelow } from '../taskvectors.js';
import {
  mergeTensorByRows,
  numberOption,
  type MergeMethodSpec,
  type MethodContext,
  type MethodOption,
  type TensorRows,
} from './spec.js';
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
 * The task vectors of rows `rows` of tensor `name`; `scratch` is new per tensor and pass and kept
 * over its blocks, which come in order (DARE keeps its generators there).
 */
export type TausOf = (name: string, rows: RowRange, scratch: Map<string, unknown>) => Promise<Float32Array[]>;

/**
 * TIES over the whole model: exact per-model top-k% thresholds (two passes of a radix select) and
 * the majority sign (a third pass) of the task vectors `tausOf` gives, read a block of rows at a
 * time (counts and the integer sign sum do not depend on how the entries are cut).
 */
export async function tiesAnalysis(ctx: MethodContext, tausOf: TausOf, k: number): Promise<TiesState> {
  const pass = async (n: number, visit: (taus: Float32Array[]) => void): Promise<void> => {
    for (const [index, name] of ctx.tensors.entries()) {
      ctx.progress(n, name, index);
      const scratch = new Map<string, unknown>();
      for (const rows of ctx.rowBlocks(name)) visit(await tausOf(name, rows, scratch));
    }
  };
  const selectors = Array.from({ length: ctx.models }, () => new MagnitudeSelector(k));
  await pass(1, (taus) => taus.forEach((t, j) => selectors[j].addFirst(t)));
  const second = selectors.map((s) => s.finishFirst());
  if (second.some(Boolean)) {
    await pass(2, (taus) =>
      taus.forEach((t, j) => {
        if (second[j]) selectors[j].addSecond(t);
      }),
    );
  }
  const thresholds = selectors.map((s) => s.threshold());
  let signTotal = 0;
  await pass(3, (taus) => {
    const trimmed = taus.map((t, j) => trimBelow(t, thresholds[j], t));
    const n = trimmed[0].length;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const t of trimmed) s += t[i];
      signTotal += Math.sign(s);
    }
  });
  return { thresholds, majoritySign: Math.sign(signTotal) };
}

/**
 * Trim, elect, disjoint mean of one tensor's (or block of rows') task vectors (overwrites `taus`;
 * the result is `taus[0]`); shares added into `shares`, entry by entry.
 */
export function tiesCombine(taus: Float32Array[], state: TiesState, shares: Float64Array): Float32Array {
  const trimmed = taus.map((t, j) => trimBelow(t, state.thresholds[j], t));
  return electAndDisjointMeanInPlace(trimmed, state.majoritySign, shares);
}

async function tiesRows(ctx: MethodContext, t: TensorRows, state: TiesState): Promise<Float32Array> {
  const { taus, baseValues } = await taskVectors(ctx, t.name, undefined, t.rows);
  const combined = tiesCombine(taus, state, t.shares);
  return fromBase(baseValues, combined, numberOption(ctx.options, 'scale'));
}

export const ties: MergeMethodSpec<TiesState> = {
  name: 'ties',
  description: 'TIES-merging: trim each task vector to its top k%, elect signs, disjoint mean',
  needs: { base: true },
  options: [TOP_K_OPTION, SCALE_OPTION],
  shares: TASK_VECTOR_SHARES,
  search: 'scale',
  prepare: (ctx) =>
    tiesAnalysis(
      ctx,
      async (name, rows) => (await taskVectors(ctx, name, undefined, rows)).taus,
      numberOption(ctx.options, 'k'),
    ),
  mergeRows: tiesRows,
  mergeTensor: mergeTensorByRows(tiesRows),
  report: (ctx, state) => ({
    scale: numberOption(ctx.options, 'scale'),
    ties: {
      k: numberOption(ctx.options, 'k'),
      thresholds: state.thresholds,
      majoritySign: state.majoritySign,
    },
  }),
};
