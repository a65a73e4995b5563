/**
 * A plain float64 implementation of METHOD.md sections 1-2 (HuggingFace *ForSequenceClassification
 * in eval mode, with head and neuron masks): slow, obviously written, and independent of every
 * backend. The conformance suite checks backends against it and takes finite differences of it.
 */
import type { Activation, Batch, EncoderModel, LayerNorm, Linear, MaskValues } from '@fmn/core';

/** float32's most negative finite value, added to masked attention scores as HuggingFace does. */
export const F32_MIN = -3.4028234663852886e38;

/** erf to about 1e-14: Taylor series near 0, continued fraction for erfc further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz)
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = ax + a / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

export function activate(x: number, act: Activation): number {
  switch (act) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return x > 0 ? x : 0;
    case 'tanh':
      return Math.tanh(x);
    case 'identity':
      return x;
  }
}

type Vec = Float64Array;

function linear(x: Vec, l: Linear): Vec {
  const [out, inp] = l.weight.shape;
  const w = l.weight.data;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = l.bias ? l.bias.data[o] : 0;
    for (let i = 0; i < inp; i++) s += w[o * inp + i] * x[i];
    y[o] = s;
  }
  return y;
}

function layerNorm(x: Vec, n: LayerNorm): Vec {
  const len = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= len;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= len;
  const inv = 1 / Math.sqrt(variance + n.eps);
  const y = new Float64Array(len);
  for (let i = 0; i < len; i++) y[i] = (x[i] - mean) * inv * n.weight.data[i] + n.bias.data[i];
  return y;
}

function positionIds(model: EncoderModel, ids: Int32Array): number[] {
  const p = model.embeddings.positionIds;
  if (p.kind === 'absolute') return Array.from(ids, (_, t) => t);
  let c = 0;
  return Array.from(ids, (id) => {
    const m = id !== p.padTokenId ? 1 : 0;
    c += m;
    return c * m + p.padTokenId;
  });
}

/** Called with the input of every encoder Linear, token by token (t: the token's position). */
export type LinearInputTap = (l: Linear, x: Float64Array, t: number) => void;

/**
 * Final hidden states of one example [T][hidden], with mask values for this example:
 * head [L*H] and neuron [L*I] (ones when absent). `tap` sees every encoder Linear's input.
 */
export function referenceHidden(
  model: EncoderModel,
  batch: Batch,
  b: number,
  headMask?: ArrayLike<number>,
  neuronMask?: ArrayLike<number>,
  tap?: LinearInputTap,
): Vec[] {
  const lin = (x: Vec, l: Linear, t: number): Vec => {
    tap?.(l, x, t);
    return linear(x, l);
  };
  const { seqLen: T } = batch;
  const { hidden, numHeads: H, headSize: d, intermediate: I } = model.dims;
  const ids = batch.inputIds.subarray(b * T, b * T + T);
  const att = batch.attentionMask.subarray(b * T, b * T + T);
  const types = batch.tokenTypeIds?.subarray(b * T, b * T + T);
  const pos = positionIds(model, ids);
  const e = model.embeddings;
  const E = model.dims.embeddingSize;
  let x: Vec[] = [];
  for (let t = 0; t < T; t++) {
    const v = new Float64Array(E);
    for (let k = 0; k < E; k++) {
      v[k] = e.word.data[ids[t] * E + k] + e.position.data[pos[t] * E + k];
      if (e.tokenType) v[k] += e.tokenType.data[(types ? types[t] : 0) * E + k];
    }
    let y = layerNorm(v, e.norm);
    if (e.project) y = lin(y, e.project, t);
    x.push(y);
  }
  const maskAdd = Array.from(att, (m) => (1 - m) * F32_MIN);
  model.layers.forEach((layer, l) => {
    const q = x.map((v, t) => lin(v, layer.query, t));
    const k = x.map((v, t) => lin(v, layer.key, t));
    const vv = x.map((v, t) => lin(v, layer.value, t));
    const ctx = x.map(() => new Float64Array(hidden));
    for (let h = 0; h < H; h++) {
      const hm = headMask ? headMask[l * H + h] : 1;
      for (let i = 0; i < T; i++) {
        const scores = new Float64Array(T);
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[i][h * d + c] * k[j][h * d + c];
          // HF adds the mask in float32, where score + F32_MIN rounds to F32_MIN
          s = s / Math.sqrt(d) + maskAdd[j];
          scores[j] = s;
          if (s > max) max = s;
        }
        let z = 0;
        for (let j = 0; j < T; j++) z += scores[j] = Math.exp(scores[j] - max);
        for (let j = 0; j < T; j++) {
          const p = (scores[j] / z) * hm;
          for (let c = 0; c < d; c++) ctx[i][h * d + c] += p * vv[j][h * d + c];
        }
      }
    }
    const a = ctx.map((c, i) => {
      const o = lin(c, layer.attentionOutput, i);
      for (let m = 0; m < hidden; m++) o[m] += x[i][m];
      return layerNorm(o, layer.attentionNorm);
    });
    x = a.map((v, t) => {
      const f = lin(v, layer.intermediate, t);
      for (let n = 0; n < I; n++)
        f[n] = activate(f[n], model.activation) * (neuronMask ? neuronMask[l * I + n] : 1);
      const o = lin(f, layer.output, t);
      for (let m = 0; m < hidden; m++) o[m] += v[m];
      return layerNorm(o, layer.outputNorm);
    });
  });
  return x;
}

function exampleMasks(model: EncoderModel, masks: MaskValues | undefined, b: number, B: number) {
  if (!masks) return { head: undefined, neuron: undefined };
  const nh = model.dims.numLayers * model.dims.numHeads;
  const nn = model.dims.numLayers * model.dims.intermediate;
  const perExample = masks.head.length === B * nh && B > 1;
  return perExample
    ? { head: masks.head.subarray(b * nh, b * nh + nh), neuron: masks.neuron.subarray(b * nn, b * nn + nn) }
    : { head: masks.head, neuron: masks.neuron };
}

/** Logits [B, numLabels] (float64). Per-example masks are recognised by their size. */
export function referenceLogits(model: EncoderModel, batch: Batch, masks?: MaskValues): Float64Array {
  const head = model.head;
  if (head?.kind !== 'classification') throw new Error('referenceLogits needs a classification head');
  const out = new Float64Array(batch.size * head.numLabels);
  for (let b = 0; b < batch.size; b++) {
    const m = exampleMasks(model, masks, b, batch.size);
    let z = referenceHidden(model, batch, b, m.head, m.neuron)[0];
    for (const step of head.steps) z = linear(z, step.linear).map((v) => activate(v, step.activation));
    out.set(z, b * head.numLabels);
  }
  return out;
}

/** Per-example losses: cross-entropy, or squared error when numLabels == 1. */
export function referenceExampleLosses(model: EncoderModel, batch: Batch, masks?: MaskValues): Float64Array {
  const logits = referenceLogits(model, batch, masks);
  const C = (model.head as { numLabels: number }).numLabels;
  const losses = new Float64Array(batch.size);
  for (let b = 0; b < batch.size; b++) {
    const y = batch.labels![b];
    if (C === 1) {
      losses[b] = (logits[b] - y) ** 2;
      continue;
    }
    const row = logits.subarray(b * C, b * C + C);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    losses[b] = lse - row[y];
  }
  return losses;
}

/** Mean loss over the batch (HuggingFace's loss). */
export function referenceLoss(model: EncoderModel, batch: Batch, masks?: MaskValues): number {
  const l = referenceExampleLosses(model, batch, masks);
  return l.reduce((a, b) => a + b, 0) / l.length;
}

/**
 * Central finite differences of the reference loss w.r.t. the shared masks (float64, so the step
 * can be small): dLoss/dm_head [L*H], dLoss/dm_neuron [L*I].
 */
export function referenceMaskGradients(
  model: EncoderModel,
  batch: Batch,
  step = 1e-5,
): { head: Float64Array; neuron: Float64Array } {
  const L = model.dims.numLayers;
  const base = {
    head: new Float32Array(L * model.dims.numHeads).fill(1),
    neuron: new Float32Array(L * model.dims.intermediate).fill(1),
  };
  // float64 masks for the differences: pass plain arrays through MaskValues' shape
  const grad = (which: 'head' | 'neuron') => {
    const n = base[which].length;
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const plus = { head: Float64Array.from(base.head), neuron: Float64Array.from(base.neuron) };
      const minus = { head: Float64Array.from(base.head), neuron: Float64Array.from(base.neuron) };
      plus[which][i] += step;
      minus[which][i] -= step;
      g[i] =
        (referenceLoss(model, batch, plus as unknown as MaskValues) -
          referenceLoss(model, batch, minus as unknown as MaskValues)) /
        (2 * step);
    }
    return g;
  };
  return { head: grad('head'), neuron: grad('neuron') };
}

/**
 * Central finite differences of `outputs` (one or more values) w.r.t. one float32 entry of a
 * parameter: the entry is perturbed by +-`step`, evaluated, and restored exactly; the quotient
 * uses the steps actually taken (float32 rounding of orig +- step).
 */
export function centralDifferences(
  outputs: () => ArrayLike<number>,
  param: { data: Float32Array },
  index: number,
  step: number,
): Float64Array {
  const orig = param.data[index];
  param.data[index] = orig + step;
  const hiStep = param.data[index] - orig;
  const hi = outputs();
  param.data[index] = orig - step;
  const loStep = orig - param.data[index];
  const lo = outputs();
  param.data[index] = orig;
  return Float64Array.from(hi, (h, c) => (h - lo[c]) / (hiStep + loStep));
}

/** centralDifferences of a scalar `loss`. */
export function centralDifference(
  loss: () => number,
  param: { data: Float32Array },
  index: number,
  step: number,
): number {
  return centralDifferences(() => [loss()], param, index, step)[0];
}

/** Central finite difference of the reference loss w.r.t. one entry of one parameter. */
export function referenceParamGradient(
  model: EncoderModel,
  batch: Batch,
  param: { data: Float32Array },
  index: number,
  step = 1e-3,
): number {
  return centralDifference(() => referenceLoss(model, batch), param, index, step);
}
