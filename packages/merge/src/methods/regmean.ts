/**
 * regmean (METHOD.md 5.4, Jin et al. 2023): every Linear weight with a Gram matrix in the Gram
 * files (`fmn gram`) is merged as W* = (sum_j lambda_j W_j G'_j) (sum_j lambda_j G'_j)^-1, with
 * G'_j = a G_j + (1 - a) diag(G_j) (a = --regmean-alpha), solved in float64 by Cholesky; a
 * feature whose diagonal sum_j G'_j[f, f] is 0 gets G'_j[f, f] = 1 in every model (that column
 * is the plain mean). Every other merged tensor is the lambda-weighted mean (plain with lambdas 1).
 */
import { FmnError, GramFile } from '@fmn/core';
import { cholesky, choleskySolve } from '../cholesky.js';
import { weightedAverage } from '../weights.js';
import { numberOption, type MergeMethodSpec, type MethodContext, type TensorToMerge } from './spec.js';

export interface RegMeanState {
  /** the weight names with a Gram matrix (the same in every Gram file) */
  readonly grams: ReadonlySet<string>;
}

async function gramNames(path: string): Promise<Set<string>> {
  const f = await GramFile.open(path);
  try {
    return new Set(f.names());
  } finally {
    await f.close();
  }
}

async function readGram(path: string, name: string, n: number): Promise<Float32Array> {
  const f = await GramFile.open(path);
  try {
    const shape = f.shape(name);
    if (shape[0] !== n)
      throw new FmnError(
        `Gram "${name}" has shape [${shape.join(', ')}], its weight needs [${n}, ${n}]`,
        path,
      );
    return await f.read(name);
  } finally {
    await f.close();
  }
}

/** RegMean of one Linear weight [out, in] from every model's weight and Gram [in, in]. */
export function regmeanSolve(
  thetas: readonly Float32Array[],
  grams: readonly Float32Array[],
  lambdas: readonly number[],
  out: number,
  n: number,
  alpha: number,
  name = 'weight',
): Float32Array {
  const M = thetas.length;
  // G'_j = a G_j off the diagonal, G_j on it
  const regularised = grams.map((g) => {
    const r = Float64Array.from(g, (v, i) => (i % (n + 1) === 0 ? v : alpha * v));
    return r;
  });
  const unseen: number[] = [];
  // over the models with lambda > 0 (lambda 0 leaves a model out)
  for (let f = 0; f < n; f++)
    if (regularised.every((r, j) => r[f * n + f] === 0 || !(lambdas[j] > 0))) unseen.push(f);
  for (const r of regularised) for (const f of unseen) r[f * n + f] = 1;
  const S = new Float64Array(n * n);
  const A = new Float64Array(out * n);
  for (let j = 0; j < M; j++) {
    const r = regularised[j];
    const l = lambdas[j];
    for (let i = 0; i < n * n; i++) S[i] += l * r[i];
    const W = thetas[j];
    // A += l * W_j G'_j, row by row
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < n; k++) {
        const w = l * W[o * n + k];
        if (w === 0) continue;
        const row = k * n;
        for (let c = 0; c < n; c++) A[o * n + c] += w * r[row + c];
      }
    }
  }
  const L = cholesky(S, n);
  if (!L)
    throw new FmnError(
      `regmean: the summed Gram matrix of "${name}" is not positive definite (linearly dependent inputs); use --regmean-alpha below 1`,
    );
  // W* S = A and S is symmetric: each row of W* solves S x = (row of A)
  const merged = new Float32Array(out * n);
  const row = new Float64Array(n);
  for (let o = 0; o < out; o++) {
    row.set(A.subarray(o * n, o * n + n));
    choleskySolve(L, n, row);
    for (let c = 0; c < n; c++) merged[o * n + c] = row[c];
  }
  return merged;
}

async function mergeLinear(
  ctx: MethodContext,
  t: TensorToMerge,
): Promise<{ merged: Float32Array; shares: Float64Array }> {
  const [out, n] = t.shape;
  if (t.shape.length !== 2) throw new FmnError(`regmean: "${t.name}" has a Gram matrix but is not 2-D`);
  const thetas = await ctx.thetas(t.name);
  const grams = await Promise.all(ctx.gramFiles.map((p) => readGram(p, t.name, n)));
  const alpha = numberOption(ctx.options, 'alpha');
  const merged = regmeanSolve(thetas, grams, ctx.lambdas, out, n, alpha, t.name);
  // shares: each model's lambda-weighted Gram trace, as a fraction, for every entry
  const traces = grams.map((g, j) => {
    let s = 0;
    for (let f = 0; f < n; f++) s += g[f * n + f];
    return ctx.lambdas[j] * s;
  });
  const total = traces.reduce((a, b) => a + b, 0);
  const shares = Float64Array.from(traces, (v) =>
    total > 0 ? (v / total) * out * n : (out * n) / ctx.models,
  );
  return { merged, shares };
}

export const regmean: MergeMethodSpec<RegMeanState> = {
  name: 'regmean',
  description:
    "RegMean: each encoder Linear as (sum_j W_j G'_j)(sum_j G'_j)^-1 from every model's input Gram matrix (fmn gram), the rest the plain mean",
  needs: { gram: true },
  options: [
    {
      key: 'alpha',
      type: 'number',
      default: 0.9,
      flag: '--regmean-alpha',
      configKey: 'regmean_alpha',
      help: "scale of the Gram matrices' off-diagonal entries (G' = a G + (1 - a) diag G), in [0, 1]",
      validate: (v) => {
        if (!((v as number) >= 0 && (v as number) <= 1))
          throw new FmnError(`--regmean-alpha must be in [0, 1], got ${String(v)}`);
      },
    },
  ],
  positiveLambdas: true,
  search: 'lambdas',
  shares: {
    kind: 'mean',
    definition:
      "mean over the entries of the group's merged tensors of model j's share: for a RegMean'd weight lambda_j tr(G_j) / sum_k lambda_k tr(G_k), else lambda_j / sum_k lambda_k; the shares of a group sum to 1",
  },
  prepare: async (ctx) => {
    const sets = await Promise.all(ctx.gramFiles.map(gramNames));
    const merged = new Set(ctx.tensors);
    for (const [j, s] of sets.entries()) {
      for (const name of s) {
        if (!merged.has(name))
          throw new FmnError(
            `Gram "${name}" names no merged tensor of the models (a task head's, or another model's?)`,
            ctx.gramFiles[j],
          );
      }
      if (s.size !== sets[0].size || [...s].some((n) => !sets[0].has(n)))
        throw new FmnError(
          `its Gram matrices are not those of ${ctx.gramFiles[0]} (Gram files of different architectures?)`,
          ctx.gramFiles[j],
        );
    }
    return { grams: sets[0] };
  },
  mergeTensor: async (ctx, t, state) => {
    if (state.grams.has(t.name)) return mergeLinear(ctx, t);
    const thetas = await ctx.thetas(t.name);
    const { merged, shareSums } = weightedAverage(
      thetas,
      thetas.map(() => ({ kind: 'scalar', value: 1 })),
      ctx.lambdas,
      t.shape,
      t.name,
    );
    return { merged, shares: shareSums };
  },
  report: (ctx, state) => ({
    regmeanAlpha: numberOption(ctx.options, 'alpha'),
    gramTensors: state.grams.size,
  }),
};
