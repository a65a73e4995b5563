/**
 * dare (METHOD.md 5.3): each entry of lambda_j tau_j dropped with probability p (seeded per model
 * and tensor) and the survivors rescaled by 1 / (1 - p); then task arithmetic, or TIES with
 * `ties: true` (its thresholds and majority sign found over the dropped vectors).
 */
import { FmnError } from '@fmn/core';
import { checkDropRate, checkTopK, dareDrop, dareRng, sumVectorsInPlace } from '../taskvectors.js';
import { booleanOption, numberOption, type MergeMethodSpec, type MethodContext } from './spec.js';
import { fromBase, SCALE_OPTION, TASK_VECTOR_SHARES, taskVectors } from './task-vector.js';
import { tiesAnalysis, tiesCombine, TOP_K_OPTION, type TiesState } from './ties.js';

/** The dropped and rescaled task vectors of tensor `name`. */
function droppedTaskVectors(
  ctx: MethodContext,
  name: string,
): Promise<{ taus: Float32Array[]; baseValues: Float32Array }> {
  const p = numberOption(ctx.options, 'p');
  const seed = numberOption(ctx.options, 'seed');
  return taskVectors(ctx, name, (t, j) => dareDrop(t, p, dareRng(seed, j, name), t));
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
          async (name) => (await droppedTaskVectors(ctx, name)).taus,
          numberOption(ctx.options, 'k'),
        )
      : undefined,
  mergeTensor: async (ctx, t, state) => {
    const { taus, baseValues } = await droppedTaskVectors(ctx, t.name);
    const shares = new Float64Array(ctx.models);
    const combined = state ? tiesCombine(taus, state, shares) : sumVectorsInPlace(taus, shares);
    return { merged: fromBase(baseValues, combined, numberOption(ctx.options, 'scale')), shares };
  },
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
