/**
 * fisher, Fisher-weighted averaging with the full diagonal Fisher (METHOD.md 5.3):
 * W_j = F_j + 1e-6 elementwise, theta* = sum_j lambda_j W_j theta_j / sum_j lambda_j W_j.
 */
import { weightedAverage, type AnyWeight } from '../weights.js';
import type { MergeMethodSpec } from './spec.js';
import { WEIGHTED_SHARES } from './weighted.js';

/** Floor added to every full-Fisher value (METHOD.md 5.3). */
export const FULL_FISHER_FLOOR = 1e-6;

export const fisher: MergeMethodSpec<undefined> = {
  name: 'fisher',
  description: "Fisher-weighted averaging: every entry weighted by each model's full diagonal Fisher + 1e-6",
  needs: { fullFisher: true },
  options: [],
  positiveLambdas: true,
  shares: WEIGHTED_SHARES,
  mergeTensor: async (ctx, t) => {
    const thetas = await ctx.thetas(t.name);
    // the values are this call's own (fresh reads): the floor is added in place
    const weights: AnyWeight[] = (await ctx.fullFishers(t.name)).map((values) => {
      for (let i = 0; i < values.length; i++) values[i] += FULL_FISHER_FLOOR;
      return { kind: 'full', values };
    });
    const { merged, shareSums } = weightedAverage(thetas, weights, ctx.lambdas, t.shape, t.name);
    return { merged, shares: shareSums };
  },
  report: () => ({ fisherFloor: FULL_FISHER_FLOOR }),
};
