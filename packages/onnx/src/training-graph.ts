/**
 * The training graph of an EncoderModel: every parameter is a graph input (the weights change
 * every step), the outputs are the batch-mean loss and its gradient w.r.t. every distinct
 * parameter (reverse-mode autodiff.ts; a tied tensor is one input, so its gradient is the sum over
 * its uses). Heads: classification (mean cross-entropy, or MSE when numLabels == 1, on `labels` as
 * addLosses takes them) and masked-LM (transform, activation, LayerNorm, decoder + bias over the
 * selected token rows: input `mlm_positions` [M] indexes the B*T token rows, `mlm_labels` [M] the
 * target ids; the loss is the mean cross-entropy over the M rows).
 */
import { encoderParams, type EncoderModel, type MaskedLmHead } from '@fmn/core';
import { gradients } from './autodiff.js';
import { activate, addLosses, buildForward, classificationHead, type ForwardGraph } from './encoder-graph.js';
import type { Graph, Value } from './graph.js';

export const TRAIN_LOSS = 'loss';
export const MLM_POSITIONS = 'mlm_positions';
export const MLM_LABELS = 'mlm_labels';
const SELECTED = 'selected';

export interface TrainingGraph {
  graph: Graph;
  /**
   * One entry per encoderParams(model) entry: the graph input carrying its values and the output
   * carrying its gradient (undefined when the loss does not reach it: the gradient is 0).
   */
  params: { name: string; input: string; grad?: string }[];
  head: 'classification' | 'masked-lm';
}

/** Output name of the gradient of parameter k (encoderParams order). */
export const paramGradName = (k: number) => `grad_${k}`;

/** Mean cross-entropy of the masked-LM head over the selected token rows of `f.hidden`. */
function maskedLmLoss(f: ForwardGraph, head: MaskedLmHead, vocabSize: number): Value {
  const g = f.graph;
  const positions = g.input(MLM_POSITIONS, 'int64', [SELECTED]);
  const labels = g.input(MLM_LABELS, 'int64', [SELECTED]);
  const rows = g.gather(f.hidden!, positions, 0); // [M, hidden]
  const z = f.norm(activate(g, f.linear(rows, head.transform), head.activation), head.norm);
  const logits = g.gemm(z, f.param(head.decoder), f.param(head.decoderBias), true); // [M, V]
  const vocab = g.range(g.const(0, 'int64'), g.const(vocabSize, 'int64'), g.const(1, 'int64'), vocabSize);
  const oneHot = g.cast(g.equal(g.unsqueeze(labels, [-1]), vocab), 'float32'); // [M, V]
  const losses = g.neg(g.reduceSum(g.mul(oneHot, g.logSoftmax(logits)), [1], false));
  return g.reduceMean(losses, [0], false);
}

/**
 * Builds the training graph of a model with a classification or masked-LM head; with
 * `gradients: false` only the loss (for evaluation).
 */
export function trainingGraph(model: EncoderModel, options: { gradients?: boolean } = {}): TrainingGraph {
  const mlm = model.head?.kind === 'masked-lm';
  let f: ForwardGraph;
  let loss: Value;
  if (mlm) {
    f = buildForward(model, 'none', [], { fullLastLayer: true, paramInputs: true });
    loss = maskedLmLoss(f, model.head as MaskedLmHead, model.dims.vocabSize);
  } else {
    const head = classificationHead(model);
    f = buildForward(model, 'none', [head], { paramInputs: true });
    loss = f.graph.reduceMean(addLosses(f.graph, f.logits[0], head.numLabels), [0], false);
  }
  const g = f.graph;
  const params = encoderParams(model);
  const values = params.map((p) => f.param(p));
  const grads = options.gradients === false ? values.map(() => undefined) : gradients(g, loss, values);
  g.output(g.identityNamed(loss, TRAIN_LOSS));
  return {
    graph: g,
    head: mlm ? 'masked-lm' : 'classification',
    params: params.map((p, k) => {
      const gv = grads[k];
      if (gv) g.output(g.identityNamed(gv, paramGradName(k)));
      return { name: p.name, input: values[k].name, grad: gv ? paramGradName(k) : undefined };
    }),
  };
}
