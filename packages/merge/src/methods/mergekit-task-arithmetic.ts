/**
 * mergekit's generalized task arithmetic methods (docs/method.md 5.7), for `fmn merge --config`:
 * `mergekit-task-arithmetic`, `mergekit-ties`, `mergekit-dare-linear` and `mergekit-dare-ties`
 * follow mergekit's `task_arithmetic`, `ties`, `dare_linear` and `dare_ties` (per-tensor
 * sparsification with each model's density, sign consensus where a zero sum elects +, `normalize`
 * by the agreeing weights, `lambda`, L1 `rescale`) with mergekit's defaults. lambda_j is mergekit's
 * per-model `weight`. The papers' versions are task-arithmetic, ties and dare.
 */
import { FmnError } from '@fmn/core';
import { checkDensity } from '../mergekit-sparsify.js';
import { MERGEKIT_VARIANTS, mergekitTaskArithmetic, type MergekitVariant } from '../mergekit-gta.js';
import { dareRng } from '../taskvectors.js';
import { booleanOption, numberOption, type MergeMethodSpec, type MethodOption } from './spec.js';

/** Per-model densities from the `densities` option: one value for every model, or one per model. */
export function parseDensities(text: string, models: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map((s) => {
    const v = s === '' ? NaN : Number(s);
    checkDensity(v, `mergekit density "${s}"`);
    return v;
  });
  if (values.length === 1) return Array.from({ length: models }, () => values[0]);
  if (values.length !== models) {
    throw new FmnError(
      `mergekit densities: give one value or one per model (${models}), got ${values.length}`,
    );
  }
  return values;
}

const DENSITIES: MethodOption = {
  key: 'densities',
  type: 'choice',
  default: '1',
  help: "mergekit's density (fraction kept) of each model: one value, or comma-separated one per model",
  configKey: null,
  validate: (v) => {
    for (const s of String(v).split(','))
      checkDensity(s.trim() === '' ? NaN : Number(s), `mergekit density "${s}"`);
  },
};
const LAMBDA: MethodOption = {
  key: 'lambda',
  type: 'number',
  default: 1,
  help: "mergekit's lambda: scale of the mixed delta",
  configKey: null,
  validate: (v) => {
    if (!Number.isFinite(v)) throw new FmnError(`mergekit lambda must be a finite number, got ${String(v)}`);
  },
};
const SEED: MethodOption = {
  key: 'seed',
  type: 'integer',
  default: 0,
  help: 'seed of the random drop (mergekit draws from torch; fmn from its own per-model, per-tensor stream)',
  configKey: null,
  validate: (v) => {
    if (!Number.isInteger(v)) throw new FmnError(`mergekit seed must be an integer, got ${String(v)}`);
  },
};
const flag = (key: string, dflt: boolean, help: string): MethodOption => ({
  key,
  type: 'boolean',
  default: dflt,
  help,
  configKey: null,
});

interface State {
  readonly densities: number[];
}

function spec(
  name: string,
  mergekitName: string,
  variant: MergekitVariant,
  defaults: { normalize: boolean; rescale: boolean },
): MergeMethodSpec<State> {
  const random = variant.sparsification === 'random';
  return {
    name,
    description: `mergekit's ${mergekitName} (its conventions, docs/method.md §5.7; set up by fmn merge --config; lambda_j = mergekit's weight)`,
    needs: { base: true },
    options: [
      DENSITIES,
      flag('normalize', defaults.normalize, "divide the mixed delta by the (agreeing) weights' sum"),
      flag('rescale', defaults.rescale, 'L1-rescale each sparsified delta'),
      LAMBDA,
      ...(random ? [SEED] : []),
    ],
    shares: {
      kind: 'fraction',
      definition:
        "sum over the entries of the group's merged tensors of |model j's term in mergekit's mixed delta| (its sparsified delta times its weight, when it agrees with the elected sign, after normalize and lambda), divided by the same sum over all models; null when every term is 0",
    },
    prepare: (ctx) =>
      Promise.resolve({ densities: parseDensities(String(ctx.options.densities), ctx.models) }),
    mergeTensor: async (ctx, t, state) => {
      const base = await ctx.base(t.name);
      const thetas = await ctx.thetas(t.name);
      const seed = random ? numberOption(ctx.options, 'seed') : 0;
      return mergekitTaskArithmetic(variant, thetas, base, {
        weights: ctx.lambdas,
        densities: state.densities,
        normalize: booleanOption(ctx.options, 'normalize'),
        rescale: booleanOption(ctx.options, 'rescale'),
        lambda: numberOption(ctx.options, 'lambda'),
        rng: (j) => dareRng(seed, j, t.name),
        tensor: t.name,
      });
    },
    report: (ctx, state) => ({
      mergekit: {
        method: mergekitName,
        weights: [...ctx.lambdas],
        densities: state.densities,
        normalize: booleanOption(ctx.options, 'normalize'),
        rescale: booleanOption(ctx.options, 'rescale'),
        lambda: numberOption(ctx.options, 'lambda'),
        seed: random ? numberOption(ctx.options, 'seed') : null,
      },
    }),
  };
}

// defaults: mergekit's registry (merge_methods/registry.py)
export const mergekitTaskArithmeticSpec = spec(
  'mergekit-task-arithmetic',
  'task_arithmetic',
  MERGEKIT_VARIANTS.task_arithmetic,
  {
    normalize: false,
    rescale: false,
  },
);
export const mergekitTies = spec('mergekit-ties', 'ties', MERGEKIT_VARIANTS.ties, {
  normalize: true,
  rescale: false,
});
export const mergekitDareLinear = spec('mergekit-dare-linear', 'dare_linear', MERGEKIT_VARIANTS.dare_linear, {
  normalize: false,
  rescale: true,
});
export const mergekitDareTies = spec('mergekit-dare-ties', 'dare_ties', MERGEKIT_VARIANTS.dare_ties, {
  normalize: false,
  rescale: true,
});
