/** task-arithmetic (METHOD.md 5.3): theta* = base + scale * sum_j lambda_j (theta_j - base). */
import { sumVectorsInPlace } from '../taskvectors.js';
import { numberOption, type MergeMethodSpec } from './spec.js';
import { fromBase, SCALE_OPTION, TASK_VECTOR_SHARES, taskVectors } from './task-vector.js';

export const taskArithmetic: MergeMethodSpec<undefined> = {
  name: 'task-arithmetic',
  description: 'task arithmetic: base + the sum of the task vectors lambda_j (theta_j - base)',
  needs: { base: true },
  options: [SCALE_OPTION],
  shares: TASK_VECTOR_SHARES,
  search: 'scale',
  mergeTensor: async (ctx, t) => {
    const { taus, baseValues } = await taskVectors(ctx, t.name);
    const shares = new Float64Array(ctx.models);
    const combined = sumVectorsInPlace(taus, shares);
    return { merged: fromBase(baseValues, combined, numberOption(ctx.options, 'scale')), shares };
  },
  report: (ctx) => ({ scale: numberOption(ctx.options, 'scale') }),
};
