/**
 * Fisher-weighted averaging (METHOD.md section 5): the zero rule, the merge weight of a tensor
 * read off a mask Fisher through an adapter's Weighting (5.1 `paper`, 5.2 `block`), and the
 * elementwise weighted average theta* = sum_j lambda_j W_j theta_j / sum_j lambda_j W_j.
 */
import { FmnError, formatShape, numel, type MaskLayout, type RowRange, type Weighting } from '@fmn/core';

/** The parts of a mask Fisher the weights need: head [L*H], neuron [L*I], row-major. */
export interface MaskFisherValues {
  readonly layout: MaskLayout;
  readonly head: Float32Array;
  readonly neuron: Float32Array;
}

/** How many entries the zero rule set to 1 (per mask; the same entries in every model). */
export interface ZeroRuleCount {
  readonly head: number;
  readonly neuron: number;
}

/**
 * The zero rule: wherever a mask Fisher entry (head or neuron) is 0 in EVERY model, it is set to
 * 1 in every model. Returns new arrays (the inputs are left as they are) and the number of entries
 * changed. With `among` (per model), only the models marked true count (those with lambda > 0:
 * a model with lambda 0 is left out of the merge).
 */
export function applyZeroRule<T extends MaskFisherValues>(
  fishers: readonly T[],
  among?: readonly boolean[],
): { fishers: (T & MaskFisherValues)[]; zeroed: ZeroRuleCount } {
  if (fishers.length === 0) return { fishers: [], zeroed: { head: 0, neuron: 0 } };
  const out = fishers.map((f) => ({
    ...f,
    head: Float32Array.from(f.head),
    neuron: Float32Array.from(f.neuron),
  }));
  const count = { head: 0, neuron: 0 };
  for (const key of ['head', 'neuron'] as const) {
    const n = out[0][key].length;
    for (const f of out) {
      if (f[key].length !== n) throw new Error(`applyZeroRule: "${key}" lengths differ between models`);
    }
    for (let i = 0; i < n; i++) {
      if (out.every((f, j) => f[key][i] === 0 || (among !== undefined && !among[j]))) {
        for (const f of out) f[key][i] = 1;
        count[key]++;
      }
    }
  }
  return { fishers: out, zeroed: count };
}

/**
 * A tensor's merge weight for one model, in factored form: W[r, c] = rows[r] * cols[c] for a
 * tensor seen as [rows, cols] (a 1-D tensor is [n, 1]; anything else is [shape[0], rest]).
 * `scalar` is one value for the whole tensor; `axis` gives one value per index along an axis.
 */
export type TensorWeight =
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'axis'; readonly axis: 0 | 1; readonly values: Float32Array };

function mean(a: Float32Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += a[i];
  return s / (end - start);
}

/** Universal weight: mean over layers of (mean_h head F[l, h] + mean_i neuron F[l, i]). */
export function universalWeight(f: MaskFisherValues): number {
  const { layers: L, heads: H, intermediate: I } = f.layout;
  let s = 0;
  for (let l = 0; l < L; l++) s += mean(f.head, l * H, (l + 1) * H) + mean(f.neuron, l * I, (l + 1) * I);
  return s / L;
}

/**
 * The weight of a tensor of `shape` (named `name`, for errors) for one model, from that model's
 * mask Fisher (after the zero rule) and the tensor's Weighting.
 */
export function tensorWeight(
  f: MaskFisherValues,
  w: Weighting,
  shape: readonly number[],
  name = 'tensor',
): TensorWeight {
  const { layers: L, heads: H, headSize: d, intermediate: I } = f.layout;
  if (w.kind === 'universal') return { kind: 'scalar', value: universalWeight(f) };
  if (!Number.isInteger(w.layer) || w.layer < 0 || w.layer >= L) {
    throw new FmnError(
      `tensor "${name}": its weighting names layer ${w.layer}, but the mask Fisher has ${L} layers`,
    );
  }
  const l = w.layer;
  switch (w.kind) {
    case 'head-mean':
      return { kind: 'scalar', value: mean(f.head, l * H, (l + 1) * H) };
    case 'neuron-mean':
      return { kind: 'scalar', value: mean(f.neuron, l * I, (l + 1) * I) };
    case 'per-head': {
      const n = shape[w.axis];
      if (shape.length <= w.axis || n !== H * d) {
        throw new FmnError(
          `tensor "${name}" ${formatShape(shape)}: per-head weighting along axis ${w.axis} needs ${H} heads x ${d} = ${H * d} entries there`,
        );
      }
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = f.head[l * H + Math.floor(i / d)];
      return { kind: 'axis', axis: w.axis, values };
    }
    case 'per-neuron': {
      const n = shape[w.axis];
      if (shape.length <= w.axis || n !== I) {
        throw new FmnError(
          `tensor "${name}" ${formatShape(shape)}: per-neuron weighting along axis ${w.axis} needs ${I} entries there`,
        );
      }
      return { kind: 'axis', axis: w.axis, values: f.neuron.slice(l * I, (l + 1) * I) };
    }
  }
}

/** [rows, cols] view of a shape: 1-D = [n, 1], 0-D = [1, 1], else [shape[0], rest]. */
export function rowsCols(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], 1];
  return [shape[0], numel(shape) / shape[0]];
}

/** A weight written out in full (for tests and reports). */
export function expandWeight(w: TensorWeight, shape: readonly number[]): Float32Array {
  const [R, C] = rowsCols(shape);
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      out[r * C + c] = w.kind === 'scalar' ? w.value : w.axis === 0 ? w.values[r] : w.values[c];
    }
  }
  return out;
}

function factors(w: TensorWeight, R: number, C: number): { rows: Float64Array; cols: Float64Array } {
  const rows = new Float64Array(R).fill(1);
  const cols = new Float64Array(C).fill(1);
  if (w.kind === 'scalar') rows.fill(w.value);
  else if (w.axis === 0) {
    if (w.values.length !== R) throw new Error(`weight has ${w.values.length} rows, tensor has ${R}`);
    for (let r = 0; r < R; r++) rows[r] = w.values[r];
  } else {
    if (w.values.length !== C) throw new Error(`weight has ${w.values.length} columns, tensor has ${C}`);
    for (let c = 0; c < C; c++) cols[c] = w.values[c];
  }
  return { rows, cols };
}

/** A weight given either in factored form or elementwise (full Fisher). */
export type AnyWeight = TensorWeight | { readonly kind: 'full'; readonly values: Float32Array };

/**
 * Elementwise weighted average of M tensors of `shape`:
 * out = sum_j lambda_j W_j theta_j / sum_j lambda_j W_j.
 * Also returns, per model, the sum over entries of its normalised weight lambda_j W_j / sum_k lambda_k W_k
 * (divide by the entry count for the mean share). A zero denominator is an FmnError naming `name`.
 * Every row is its own average: with `block`, `thetas` (and full weights) hold only rows
 * [start, end) of the tensor, the factored weights are still the whole tensor's, the result holds
 * those rows and the share sums are added into `block.shareSums` (so blocks merged in order give
 * the whole tensor's values and sums exactly).
 */
export function weightedAverage(
  thetas: readonly Float32Array[],
  weights: readonly AnyWeight[],
  lambdas: readonly number[],
  shape: readonly number[],
  name = 'tensor',
  block?: { readonly rows: RowRange; readonly shareSums: Float64Array },
): { merged: Float32Array; shareSums: Float64Array } {
  const M = thetas.length;
  const [R, C] = rowsCols(shape);
  const first = block ? block.rows.start : 0;
  const end = block ? block.rows.end : R;
  const n = (end - first) * C;
  for (const t of thetas)
    if (t.length !== n) throw new Error(`weightedAverage: ${name} has ${t.length} values, expected ${n}`);
  const merged = new Float32Array(n);
  const shareSums = block ? block.shareSums : new Float64Array(M);
  const full = weights.map((w) => (w.kind === 'full' ? w.values : undefined));
  const fac = weights.map((w) => (w.kind === 'full' ? undefined : factors(w, R, C)));
  for (const f of full)
    if (f && f.length !== n) throw new Error(`weightedAverage: full weight of ${name} has wrong size`);
  // Row by row, model by model (monomorphic inner loops): num[c] = sum_j w_j theta_j, den[c] = sum_j w_j.
  const num = new Float64Array(C);
  const den = new Float64Array(C);
  const inv = new Float64Array(C);
  for (let r = first; r < end; r++) {
    const off = (r - first) * C;
    num.fill(0);
    den.fill(0);
    for (let j = 0; j < M; j++) {
      const t = thetas[j];
      const fj = full[j];
      const rw = fac[j] ? lambdas[j] * fac[j]!.rows[r] : lambdas[j];
      if (fj) {
        for (let c = 0; c < C; c++) {
          const w = rw * fj[off + c];
          num[c] += w * t[off + c];
          den[c] += w;
        }
      } else {
        const cols = fac[j]!.cols;
        for (let c = 0; c < C; c++) {
          const w = rw * cols[c];
          num[c] += w * t[off + c];
          den[c] += w;
        }
      }
    }
    for (let c = 0; c < C; c++) {
      const d = den[c];
      if (!(d > 0)) {
        throw new FmnError(
          `tensor "${name}": the merge weights sum to ${d} at index ${r * C + c} (every model's weight is zero there)`,
        );
      }
      merged[off + c] = num[c] / d;
      inv[c] = 1 / d;
    }
    for (let j = 0; j < M; j++) {
      const fj = full[j];
      const rw = fac[j] ? lambdas[j] * fac[j]!.rows[r] : lambdas[j];
      let s = 0;
      if (fj) for (let c = 0; c < C; c++) s += fj[off + c] * inv[c];
      else {
        const cols = fac[j]!.cols;
        for (let c = 0; c < C; c++) s += cols[c] * inv[c];
      }
      shareSums[j] += rw * s;
    }
  }
  return { merged, shareSums };
}
