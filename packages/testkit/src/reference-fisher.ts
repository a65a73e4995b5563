/**
 * Float64 references for the Fisher with the model's own labels (METHOD.md section 3, `model`)
 * and for RegMean's Gram matrices (section 5.4), written independently of every backend: the
 * Fisher from central finite differences of the reference's log-probabilities, the Gram matrices
 * from the reference forward pass's Linear inputs.
 */
import type { Batch, EncoderModel, MaskValues } from '@fmn/core';
import { sliceBatch } from './batches.js';
import { centralDifferences, referenceHidden, referenceLogits } from './reference.js';

function numLabelsOf(model: EncoderModel): number {
  if (model.head?.kind !== 'classification') throw new Error('the reference needs a classification head');
  return model.head.numLabels;
}

/**
 * The model's outputs for one example: log p(c|x) for every class, or [y_hat] for regression.
 * Masks may be float64 (read as plain numbers).
 */
function modelOutputs(
  model: EncoderModel,
  one: Batch,
  masks?: { head: ArrayLike<number>; neuron: ArrayLike<number> },
): Float64Array {
  const z = referenceLogits(model, one, masks as unknown as MaskValues);
  if (z.length === 1) return z;
  const max = Math.max(...z);
  const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
  return z.map((v) => v - lse);
}

/** The weight of each output: p(c|x) = exp(log p), or 1 for regression's single output. */
function outputWeights(out: Float64Array): Float64Array {
  return out.length === 1 ? Float64Array.of(1) : out.map(Math.exp);
}

/**
 * The mask Fisher with the model's own labels: sum over examples i and classes c of
 * p(c|x_i) (d log p(c|x_i)/dm)^2 (regression: sum_i (d y_hat_i/dm)^2), the derivatives by
 * central differences at masks of ones. head [L*H], neuron [L*I].
 */
export function referenceModelMaskFisher(
  model: EncoderModel,
  batch: Batch,
  step = 1e-5,
): { head: Float64Array; neuron: Float64Array } {
  numLabelsOf(model);
  const L = model.dims.numLayers;
  const F = {
    head: new Float64Array(L * model.dims.numHeads),
    neuron: new Float64Array(L * model.dims.intermediate),
  };
  for (let i = 0; i < batch.size; i++) {
    const one = sliceBatch(batch, i);
    const p = outputWeights(modelOutputs(model, one));
    const at = {
      head: new Float64Array(F.head.length).fill(1),
      neuron: new Float64Array(F.neuron.length).fill(1),
    };
    for (const which of ['head', 'neuron'] as const) {
      for (let j = 0; j < at[which].length; j++) {
        at[which][j] = 1 + step;
        const hi = modelOutputs(model, one, at);
        at[which][j] = 1 - step;
        const lo = modelOutputs(model, one, at);
        at[which][j] = 1;
        for (let c = 0; c < p.length; c++) F[which][j] += p[c] * ((hi[c] - lo[c]) / (2 * step)) ** 2;
      }
    }
  }
  return F;
}

/**
 * One entry of the full Fisher with the model's own labels: sum_i sum_c p(c|x_i)
 * (d log p(c|x_i)/dtheta_k)^2 (regression: sum_i (d y_hat_i/dtheta_k)^2), by central differences
 * of the float32 parameter (perturbed, evaluated in float64, restored exactly).
 */
export function referenceModelParamFisher(
  model: EncoderModel,
  batch: Batch,
  param: { data: Float32Array },
  index: number,
  step = 1e-3,
): number {
  numLabelsOf(model);
  let F = 0;
  for (let i = 0; i < batch.size; i++) {
    const one = sliceBatch(batch, i);
    const p = outputWeights(modelOutputs(model, one));
    const d = centralDifferences(() => modelOutputs(model, one), param, index, step);
    for (let c = 0; c < p.length; c++) F += p[c] * d[c] ** 2;
  }
  return F;
}

/**
 * RegMean's Gram matrices (METHOD.md 5.4): for every encoder Linear, sum over the batch's
 * non-padding tokens of x x^T, x the Linear's input ([in*in] row-major, by weight name); for the
 * classification head's first Linear (BERT's pooler), over token 0 only.
 */
export function referenceGrams(model: EncoderModel, batch: Batch): Map<string, Float64Array> {
  if (model.head?.kind !== 'classification') throw new Error('the reference needs a classification head');
  const first = model.head.steps[0].linear.weight;
  const grams = new Map<string, Float64Array>();
  const add = (name: string, x: Float64Array) => {
    const n = x.length;
    let g = grams.get(name);
    if (!g) grams.set(name, (g = new Float64Array(n * n)));
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) g[r * n + c] += x[r] * x[c];
  };
  const T = batch.seqLen;
  for (let b = 0; b < batch.size; b++) {
    const hidden = referenceHidden(model, batch, b, undefined, undefined, (l, x, t) => {
      if (batch.attentionMask[b * T + t] === 1) add(l.weight.name, x);
    });
    add(first.name, hidden[0]);
  }
  return grams;
}
