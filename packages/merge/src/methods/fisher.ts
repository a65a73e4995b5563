/**
 * fisher, Fisher-weighted averaging with the full diagonal Fisher (METHOD.md 5.3):
 * W_j = F_j + 1e-6 elementwise, theta* = sum_j lambda_j W_j theta_j / sum_j lambda_j W_j.
 */
import { weightedAverage, type AnyWeight } from '../weights.js';
import { mergeTensorByRows, type MergeMethodSpec, type MethodContext, type TensorRows } from './spec.js';
import {
  FISHER_NORMALIZE_OPTION,
  fullFisherMeans,
  normalizeReport,
  normalizing,
} from './fisher-normalize.js';
import { WEIGHTED_SHARES } from './weighted.js';

/** Floor added to every full-Fisher value (METHOD.md 5.3). */
export const FULL_FISHER_FLOOR = 1e-6;

/** per model, the divisor of its Fisher values (METHOD.md 5.5); undefined without normalisation */
type State = number[] | undefined;

/** One block of rows: every entry is weighted by its own Fisher values. */
async function rows(ctx: MethodContext, t: TensorRows, means: State): Promise<Float32Array> {
  const thetas = await ctx.thetas(t.name, t.rows);
  // the values are this call's own (fresh reads): normalised and floored in place
  const weights: AnyWeight[] = (await ctx.fullFishers(t.name, t.rows)).map((values, j) => {
    if (means) for (let i = 0; i < values.length; i++) values[i] /= means[j];
    for (let i = 0; i < values.length; i++) values[i] += FULL_FISHER_FLOOR;
    return { kind: 'full', values };
  });
  const block = { rows: t.rows, shareSums: t.shares };
  return weightedAverage(thetas, weights, ctx.lambdas, t.shape, t.name, block).merged;
}

export const fisher: MergeMethodSpec<State> = {
  name: 'fisher',
  description: "Fisher-weighted averaging: every entry weighted by each model's full diagonal Fisher + 1e-6",
  needs: { fullFisher: true },
  options: [FISHER_NORMALIZE_OPTION],
  positiveLambdas: true,
  search: 'lambdas',
  shares: WEIGHTED_SHARES,
  label: (o) => (normalizing(o) ? 'fisher (mean-normalised)' : 'fisher'),
  prepare: async (ctx) => (normalizing(ctx.options) ? fullFisherMeans(ctx) : undefined),
  mergeRows: rows,
  mergeTensor: mergeTensorByRows(rows),
  report: (ctx) => ({ fisherFloor: FULL_FISHER_FLOOR, ...normalizeReport(ctx.options) }),
};
