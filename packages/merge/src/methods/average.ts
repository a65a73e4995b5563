/** average: theta* = sum_j lambda_j theta_j / sum_j lambda_j (the plain mean when every lambda is 1). */
import { weightedAverage, type AnyWeight } from '../weights.js';
import { mergeTensorByRows, type MergeMethodSpec, type MethodContext, type TensorRows } from './spec.js';
import { WEIGHTED_SHARES } from './weighted.js';

/** One block of rows (every entry is its own average). */
async function rows(ctx: MethodContext, t: TensorRows): Promise<Float32Array> {
  const thetas = await ctx.thetas(t.name, t.rows);
  const weights: AnyWeight[] = thetas.map(() => ({ kind: 'scalar', value: 1 }));
  const block = { rows: t.rows, shareSums: t.shares };
  return weightedAverage(thetas, weights, ctx.lambdas, t.shape, t.name, block).merged;
}

export const average: MergeMethodSpec<undefined> = {
  name: 'average',
  description: 'weighted average of the parameters (the plain mean when every lambda is 1)',
  needs: {},
  options: [],
  positiveLambdas: true,
  search: 'lambdas',
  shares: WEIGHTED_SHARES,
  mergeRows: rows,
  mergeTensor: mergeTensorByRows(rows),
  report: () => ({}),
};
