/** average: theta* = sum_j lambda_j theta_j / sum_j lambda_j (the plain mean when every lambda is 1). */
import { weightedAverage, type AnyWeight } from '../weights.js';
import type { MergeMethodSpec } from './spec.js';
import { WEIGHTED_SHARES } from './weighted.js';

export const average: MergeMethodSpec<undefined> = {
  name: 'average',
  description: 'weighted average of the parameters (the plain mean when every lambda is 1)',
  needs: {},
  options: [],
  positiveLambdas: true,
  search: 'lambdas',
  shares: WEIGHTED_SHARES,
  mergeTensor: async (ctx, t) => {
    const thetas = await ctx.thetas(t.name);
    const weights: AnyWeight[] = thetas.map(() => ({ kind: 'scalar', value: 1 }));
    const { merged, shareSums } = weightedAverage(thetas, weights, ctx.lambdas, t.shape, t.name);
    return { merged, shares: shareSums };
  },
  report: () => ({}),
};
