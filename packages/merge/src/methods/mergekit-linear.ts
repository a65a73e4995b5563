/**
 * mergekit's `linear` (docs/method.md 5.7), for `fmn merge --config`: sum_j w_j theta_j, divided
 * by sum_j w_j with `normalize` (default true); w_j = lambda_j is mergekit's per-model `weight`
 * (any sign). The paper-convention counterpart is `average` (positive lambdas, always normalised).
 */
import { mergekitLinear } from '../mergekit-consensus.js';
import { booleanOption, type MergeMethodSpec } from './spec.js';

export const mergekitLinearSpec: MergeMethodSpec<undefined> = {
  name: 'mergekit-linear',
  description:
    "mergekit's linear: sum_j w_j theta_j (/ sum_j w_j with normalize, the default), w_j = lambda_j (set up by fmn merge --config)",
  needs: {},
  options: [
    {
      key: 'normalize',
      type: 'boolean',
      default: true,
      help: "divide by the weights' sum",
      configKey: null,
    },
  ],
  shares: {
    kind: 'fraction',
    definition:
      "|w_j| / sum_k |w_k| (mergekit linear: each model's weight), the same for every entry; null when every weight is 0",
  },
  mergeTensor: async (ctx, t) => {
    const thetas = await ctx.thetas(t.name);
    const merged = mergekitLinear(thetas, ctx.lambdas, booleanOption(ctx.options, 'normalize'));
    const shares = Float64Array.from(ctx.lambdas, (w) => Math.abs(w) * merged.length);
    return { merged, shares };
  },
  report: (ctx) => ({
    mergekit: {
      method: 'linear',
      weights: [...ctx.lambdas],
      normalize: booleanOption(ctx.options, 'normalize'),
    },
  }),
};
