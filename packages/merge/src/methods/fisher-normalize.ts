/**
 * METHOD.md 5.5, normalised Fisher (our extension): with `fisherNormalize: 'mean'` each model's
 * Fisher is divided by its own mean before the zero rule and the weights, so that models whose
 * Fisher differs only in scale weigh the same: a mask Fisher's head part by its mean over [L, H]
 * and its neuron part by its mean over [L, I]; a full Fisher by its mean over all entries of the
 * merged parameters (the task heads, which are not merged, are left out). A mean of 0 is an error.
 * `none` (the default) is the paper. An option of fisher-nodes and fisher.
 */
import { FmnError } from '@fmn/core';
import type { MaskFisherValues } from '../weights.js';
import type { MethodContext, MethodOption, MethodOptions } from './spec.js';

export const FISHER_NORMALIZE_OPTION: MethodOption = {
  key: 'fisherNormalize',
  type: 'choice',
  choices: ['none', 'mean'],
  default: 'none',
  flag: '--fisher-normalize',
  configKey: 'fisher_normalize',
  help: "none: the paper; mean: divide each model's Fisher by its mean first (docs/method.md §5.5)",
};

export function normalizing(o: MethodOptions): boolean {
  return o.fisherNormalize === 'mean';
}

/** The report field: only when normalising (a default report is unchanged). */
export function normalizeReport(o: MethodOptions): Record<string, unknown> {
  return normalizing(o) ? { fisherNormalize: o.fisherNormalize } : {};
}

function mean(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length > 0 ? s / a.length : 0;
}

function divided(a: Float32Array, by: number): Float32Array {
  return Float32Array.from(a, (v) => v / by);
}

/** Each mask Fisher's head and neuron parts divided by their own means. */
export function normalizeMaskFishers(ctx: MethodContext): MaskFisherValues[] {
  return ctx.maskFishers.map((f, j) => {
    const mh = mean(f.head);
    const mn = mean(f.neuron);
    for (const [part, m] of [
      ['head', mh],
      ['neuron', mn],
    ] as const) {
      if (!(m > 0)) {
        throw new FmnError(
          `--fisher-normalize mean: the ${part} Fisher of model ${j + 1} has mean ${m}; it cannot be normalised`,
          ctx.fisherFiles[j],
        );
      }
    }
    return { layout: f.layout, head: divided(f.head, mh), neuron: divided(f.neuron, mn) };
  });
}

/** Each model's full-Fisher mean over every entry of the merged parameters (a pass over the files). */
export async function fullFisherMeans(ctx: MethodContext): Promise<number[]> {
  const sums = new Float64Array(ctx.models);
  let entries = 0;
  for (const [index, name] of ctx.tensors.entries()) {
    ctx.progress(1, name, index);
    // by blocks of rows, in order: the same additions in the same order as whole tensors
    for (const rows of ctx.rowBlocks(name)) {
      const values = await ctx.fullFishers(name, rows);
      values.forEach((v, j) => {
        for (let i = 0; i < v.length; i++) sums[j] += v[i];
      });
      entries += values[0]?.length ?? 0;
    }
  }
  return [...sums].map((s, j) => {
    const m = entries > 0 ? s / entries : 0;
    if (!(m > 0)) {
      throw new FmnError(
        `--fisher-normalize mean: the full Fisher of model ${j + 1} has mean ${m}; it cannot be normalised`,
        ctx.fisherFiles[j],
      );
    }
    return m;
  });
}
