/**
 * dare (METHOD.md 5.3): each entry of lambda_j tau_j dropped with probability p (seeded per model
 * and tensor) and the survivors rescaled by 1 / (1 - p); then task arithmetic, or TIES with
 * `ties: true` (its thresholds and majority sign found over the dropped vectors).
 */
import { FmnError, type RowRange } from '@fmn/core';
import {
  checkDropRate,
  checkTopK,
  dareDrop,
  dareRng,
  sumVectorsInPlace,
  type SeededRng,
} from '../taskvectors.js';
import {
  booleanOption,
  mergeTensorByRows,
  numberOption,
  type MergeMethodSpec,
  type MethodContext,
  type TensorRows,
} from './spec.js';
import { fromBase, SCALE_OPTION, TASK_VECTOR_SHARES, taskVectors } from './task-vector.js';
import { tiesAnalysis, tiesCombine, TOP_K_OPTION, type TiesState } from './ties.js';

/**
 * The dropped and rescaled task vectors of rows `rows` of tensor `name`. Each model's generator
 * (one stream per seed, model and tensor) is kept in `scratch` from block to block: the blocks
 * come in order, so entry i gets the i-th draw however the tensor is cut.
 */
function droppedTaskVectors(
  ctx: MethodContext,
  name: string,
  rows: RowRange,
  scratch: Map<string, unknown>,
): Promise<{ taus: Float32Array[]; baseValues: Float32Array }> {
  const p = numberOption(ctx.options, 'p');
  const seed = numberOption(ctx.options, 'seed');
  let rngs = scratch.get('dare') as SeededRng[] | undefined;
  if (!rngs) {
    rngs = Array.from({ length: ctx.models }, (_, j) => dareRng(seed, j, name));
    scratch.set('dare', rngs);
  }
  const streams = rngs;
  return taskVectors(ctx, name, (t, j) => dareDrop(t, p, streams[j], t), rows);
}

async function dareRows(
  ctx: MethodContext,
  t: TensorRows,
  state: TiesState | undefined,
): Promise<Float32Array> {
  const { taus, baseValues } = await droppedTaskVectors(ctx, t.name, t.rows, t.scratch);
  const combined = state ? tiesCombine(taus, state, t.shares) : sumVectorsInPlace(taus, t.shares);
  return fromBase(baseValues, combined, numberOption(ctx.options, 'scale'));
}

export const dare: MergeMethodSpec<TiesState | undefined> = {
  name: 'dare',
  description:
    'DARE: drop each task-vector entry with probability p, rescale the rest by 1/(1-p), then task arithmetic or TIES',
  needs: { base: true },
  options: [
    {
      key: 'p',
      type: 'number',
      default: 0.9,
      flag: '--dare-p',
      help: 'drop probability of each task-vector entry',
      validate: (v) => checkDropRate(v as number),
    },
    {
      key: 'seed',
      type: 'integer',
      default: 0,
      flag: '--dare-seed',
      help: 'random seed of the drop',
      validate: (v) => {
        if (!Number.isInteger(v)) throw new FmnError(`DARE seed must be an integer, got ${String(v)}`);
      },
    },
    {
      key: 'ties',
      type: 'boolean',
      default: false,
      flag: '--dare-ties',
      help: 'combine the rescaled task vectors with TIES instead of task arithmetic',
    },
    // TIES' k, checked only when ties is on
    { ...TOP_K_OPTION, help: `with --dare-ties: ${TOP_K_OPTION.help}`, validate: undefined },
    SCALE_OPTION,
  ],
  shares: TASK_VECTOR_SHARES,
  search: 'scale',
  validate: (o) => {
    if (booleanOption(o, 'ties')) checkTopK(numberOption(o, 'k'));
  },
  prepare: async (ctx) =>
    booleanOption(ctx.options, 'ties')
      ? tiesAnalysis(
          ctx,
          async (name, rows, scratch) => (await droppedTaskVectors(ctx, name, rows, scratch)).taus,
          numberOption(ctx.options, 'k'),
        )
      : undefined,
  mergeRows: dareRows,
  mergeTensor: mergeTensorByRows(dareRows),
  report: (ctx, state) => ({
    scale: numberOption(ctx.options, 'scale'),
    ties: state
      ? { k: numberOption(ctx.options, 'k'), thresholds: state.thresholds, majoritySign: state.majoritySign }
      : null,
    dare: {
      p: numberOption(ctx.options, 'p'),
      seed: numberOption(ctx.options, 'seed'),
      ties: booleanOption(ctx.options, 'ties'),
    },
  }),
};
