/** task-arithmetic (METHOD.md 5.3): theta* = base + scale * sum_j lambda_j (theta_j - base). */
import { sumVectorsInPlace } from '../taskvectors.js';
import {
  mergeTensorByRows,
  numberOption,
  type MergeMethodSpec,
  type MethodContext,
  type TensorRows,
} from './spec.js';
import { fromBase, SCALE_OPTION, TASK_VECTOR_SHARES, taskVectors } from './task-vector.js';

/** One block of rows: every entry is its own sum, so a tensor merges block by block. */
async function rows(ctx: MethodContext, t: TensorRows): Promise<Float32Array> {
  const { taus, baseValues } = await taskVectors(ctx, t.name, undefined, t.rows);
  const combined = sumVectorsInPlace(taus, t.shares);
  return fromBase(baseValues, combined, numberOption(ctx.options, 'scale'));
}

export const taskArithmetic: MergeMethodSpec<undefined> = {
  name: 'task-arithmetic',
  description: 'task arithmetic: base + the sum of the task vectors lambda_j (theta_j - base)',
  needs: { base: true },
  options: [SCALE_OPTION],
  shares: TASK_VECTOR_SHARES,
  search: 'scale',
  mergeRows: rows,
  mergeTensor: mergeTensorByRows(rows),
  report: (ctx) => ({ scale: numberOption(ctx.options, 'scale') }),
};
