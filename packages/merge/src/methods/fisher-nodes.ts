/**
 * fisher-nodes, the paper's method (METHOD.md 5.1 `paper`, 5.2 `block`): each tensor's weight per
 * model is read off that model's mask Fisher (per head, per neuron, layer means, or the universal
 * mean) after the zero rule, then theta* = sum_j lambda_j W_j theta_j / sum_j lambda_j W_j.
 */
import { FmnError } from '@fmn/core';
import {
  applyZeroRule,
  tensorWeight,
  weightedAverage,
  type MaskFisherValues,
  type TensorWeight,
  type ZeroRuleCount,
} from '../weights.js';
import {
  mappingOption,
  mergeTensorByRows,
  type MergeMethodSpec,
  type MethodContext,
  type MethodOption,
  type TensorRows,
} from './spec.js';
import {
  FISHER_NORMALIZE_OPTION,
  normalizeMaskFishers,
  normalizeReport,
  normalizing,
} from './fisher-normalize.js';
import { WEIGHTED_SHARES } from './weighted.js';

export const MAPPING_OPTION: MethodOption = {
  key: 'mapping',
  type: 'choice',
  choices: ['paper', 'block'],
  default: 'paper',
  flag: '--mapping',
  help: 'how the mask Fisher maps onto tensors (docs/method.md §5.1 paper, §5.2 block)',
  validate: (v) => {
    if (v !== 'paper' && v !== 'block') throw new FmnError(`unknown mapping "${String(v)}" (paper, block)`);
  },
};

interface State {
  /** the mask Fishers after the zero rule */
  readonly fishers: MaskFisherValues[];
  readonly zeroed: ZeroRuleCount;
}

/**
 * One block of rows: a row's weights are read off the mask Fisher by its index in the whole tensor
 * (per-row weights are the whole tensor's, found once per tensor and kept in `scratch`).
 */
async function rows(ctx: MethodContext, t: TensorRows, state: State): Promise<Float32Array> {
  const thetas = await ctx.thetas(t.name, t.rows);
  let weights = t.scratch.get('weights') as TensorWeight[] | undefined;
  if (!weights) {
    const mapping = mappingOption(ctx.options);
    weights = state.fishers.map((f) => tensorWeight(f, t.role[mapping], t.shape, t.name));
    t.scratch.set('weights', weights);
  }
  const block = { rows: t.rows, shareSums: t.shares };
  return weightedAverage(thetas, weights, ctx.lambdas, t.shape, t.name, block).merged;
}

export const fisherNodes: MergeMethodSpec<State> = {
  name: 'fisher-nodes',
  description:
    "Fisher mask nodes (the paper): each tensor weighted per head / per neuron by every model's mask Fisher",
  needs: { maskFisher: true },
  options: [MAPPING_OPTION, FISHER_NORMALIZE_OPTION],
  positiveLambdas: true,
  search: 'lambdas',
  shares: WEIGHTED_SHARES,
  label: (o) => {
    const notes = [o.mapping === 'block' ? 'block' : '', normalizing(o) ? 'mean-normalised' : ''].filter(
      Boolean,
    );
    return notes.length ? `fisher-nodes (${notes.join(', ')})` : 'fisher-nodes';
  },
  prepare: (ctx) => {
    // METHOD.md 5.5: normalised before the zero rule
    // over the models with lambda > 0 (lambda 0 leaves a model out)
    const z = applyZeroRule(
      normalizing(ctx.options) ? normalizeMaskFishers(ctx) : ctx.maskFishers,
      ctx.lambdas.map((l) => l > 0),
    );
    return Promise.resolve({ fishers: z.fishers, zeroed: z.zeroed });
  },
  mergeRows: rows,
  mergeTensor: mergeTensorByRows(rows),
  report: (ctx, state) => ({
    mapping: mappingOption(ctx.options),
    zeroRule: { ...state.zeroed },
    ...normalizeReport(ctx.options),
  }),
};
