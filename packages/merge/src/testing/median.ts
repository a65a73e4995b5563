/**
 * The worked example of docs/adding-a-merge-method.md: an elementwise `median` merge method in
 * one file. It is not a built-in: a test (or a program) registers it with
 * `registerMergeMethod(median)`, and from then on merge(), `fmn merge --method median` option
 * building and run configurations accept it, with no other edit.
 *
 * theta*[i] = the median of theta_1[i] .. theta_M[i]; for an even M the mean of the two middle
 * values, or with `lower` the lower one. lambdas are not used. A model's share of an entry is
 * 1 / (number of values picked) when its value is one of those picked (ties go by model order).
 */
import type { MergeMethodSpec } from '../methods/spec.js';

export const median: MergeMethodSpec<undefined> = {
  name: 'median',
  description: 'elementwise median of the models (an example method, see docs/adding-a-merge-method.md)',
  needs: {},
  options: [
    {
      key: 'lower',
      type: 'boolean',
      default: false,
      flag: '--median-lower',
      help: 'for an even number of models take the lower middle value instead of the mean of the two',
    },
  ],
  shares: {
    kind: 'mean',
    definition:
      "mean over the entries of the group's merged tensors of 1 / (number of middle values) where model j's value is a middle value, else 0",
  },
  mergeTensor: async (ctx, t) => {
    const thetas = await ctx.thetas(t.name);
    const M = thetas.length;
    const lower = ctx.options.lower === true;
    // the middle ranks: one for an odd M, two for an even M (one with `lower`)
    const ranks = M % 2 === 1 ? [(M - 1) / 2] : lower ? [M / 2 - 1] : [M / 2 - 1, M / 2];
    const n = thetas[0].length;
    const merged = new Float32Array(n);
    const shares = new Float64Array(M);
    const order = Array.from({ length: M }, (_, j) => j);
    for (let i = 0; i < n; i++) {
      order.sort((a, b) => thetas[a][i] - thetas[b][i] || a - b);
      let s = 0;
      for (const r of ranks) {
        s += thetas[order[r]][i];
        shares[order[r]] += 1 / ranks.length;
      }
      merged[i] = s / ranks.length;
    }
    return { merged, shares };
  },
  report: (ctx) => ({ median: { lower: ctx.options.lower === true } }),
};
