/**
 * Shared by the task-vector methods (task-arithmetic, ties, dare; METHOD.md 5.3): the scale option,
 * lambda_j (theta_j - base) per tensor, theta* = base + scale * combined, and the share definition.
 */
import { FmnError, type RowRange } from '@fmn/core';
import { addScaled } from '../taskvectors.js';
import type { MethodContext, MethodOption, ShareRule } from './spec.js';

export const SCALE_OPTION: MethodOption = {
  key: 'scale',
  type: 'number',
  default: 1,
  help: 'theta* = base + scale * (combined task vector)',
  configKey: null,
  validate: (v) => {
    if (!Number.isFinite(v)) throw new FmnError(`scale must be a finite number, got ${String(v)}`);
  },
};

export const TASK_VECTOR_SHARES: ShareRule = {
  kind: 'fraction',
  definition:
    "sum over the entries of the group's merged tensors of |model j's contribution to the combined task vector| (task arithmetic / dare: lambda_j tau_j after any DARE drop; ties: the trimmed, sign-agreeing lambda_j tau_j divided by the number of agreeing models), divided by the same sum over all models; null when every contribution is 0",
};

/**
 * lambda_j (theta_j - base) of tensor `name` (only rows `rows` when given) for every model, each
 * passed through `drop` when given (DARE), and the base values.
 */
export async function taskVectors(
  ctx: MethodContext,
  name: string,
  drop?: (tau: Float32Array, modelIndex: number) => Float32Array,
  rows?: RowRange,
): Promise<{ taus: Float32Array[]; baseValues: Float32Array }> {
  const baseValues = await ctx.base(name, rows);
  const thetas = await ctx.thetas(name, rows);
  // in place: each theta array is this call's own (a fresh read), so it becomes tau
  const taus = thetas.map((t, j) => {
    const lambda = ctx.lambdas[j];
    for (let i = 0; i < t.length; i++) t[i] = lambda * (t[i] - baseValues[i]);
    return drop ? drop(t, j) : t;
  });
  return { taus, baseValues };
}

/** base + scale * combined, written over `combined`. */
export function fromBase(baseValues: Float32Array, combined: Float32Array, scale: number): Float32Array {
  return addScaled(baseValues, combined, scale, combined);
}
