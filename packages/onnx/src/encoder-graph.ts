/**
 * ONNX graphs of an EncoderModel (METHOD.md sections 1-3): the forward pass with optional mask
 * inputs, classification heads, the two losses, and the mask-gradient graph obtained by
 * differentiating the forward graph (autodiff.ts).
 */
import {
  encoderParams,
  type Activation,
  type ClassificationHead,
  type EncoderModel,
  type LayerNorm,
  type Linear,
  type Param,
} from '@fmn/core';
import { gradients } from './autodiff.js';
import { Graph, type Value } from './graph.js';

/** float32's most negative finite value (HuggingFace's additive attention mask). */
export const F32_MIN = -3.4028234663852886e38;

export const BATCH = 'batch_size';
export const SEQ = 'sequence_length';
const TOKENS = 'tokens';

/** How the masks enter the graph: none, shared ([L,H] / [L,I]) or per example ([B,L,H] / [B,L,I]). */
export type MaskMode = 'none' | 'shared' | 'example';

/**
 * Graph input / output names: one mask input per kind, head_mask [L,H] and neuron_mask [L,I]
 * (shared) or [B,L,H] and [B,L,I] (example); the gradient outputs have the same shapes.
 */
export const HEAD_MASK = 'head_mask';
export const NEURON_MASK = 'neuron_mask';
export const HEAD_GRAD = 'head_grad';
export const NEURON_GRAD = 'neuron_grad';

/**
 * One initializer (or, for training graphs, one float32 graph input) per distinct Param (tied
 * tensors once); clashing names get a numeric suffix.
 */
class Weights {
  readonly cache = new Map<Param, Value>();
  private readonly names = new Set<string>();
  constructor(
    private readonly g: Graph,
    private readonly asInputs: boolean,
  ) {}
  get(p: Param): Value {
    let v = this.cache.get(p);
    if (!v) {
      let name = p.name;
      for (let k = 1; this.names.has(name); k++) name = `${p.name}.${k}`;
      this.names.add(name);
      v = this.asInputs ? this.g.input(name, 'float32', p.shape) : this.g.initializer(name, p.shape, p.data);
      this.cache.set(p, v);
    }
    return v;
  }
}

export interface ForwardGraph {
  graph: Graph;
  /** the attention_mask input [B, T] (int64) */
  attentionMask: Value;
  /** logits per head, [B, numLabels] */
  logits: Value[];
  /** the mask inputs (absent in mode none) */
  headMask?: Value;
  neuronMask?: Value;
  /** true when the graph has a token_type_ids input */
  tokenTypes: boolean;
  /** the initializer (or input, with paramInputs) of every parameter used */
  params: Map<Param, Value>;
  /** with fullLastLayer: the final hidden states of every token [B*T, hidden] */
  hidden?: Value;
  /** applies a Linear (its weight and bias from `params`) to rows [N, in] */
  linear: (x: Value, lin: Linear) => Value;
  /** applies a LayerNorm (its parameters from `params`) over the last axis */
  norm: (x: Value, n: LayerNorm) => Value;
  /** the graph value of a parameter (an initializer, or an input with paramInputs) */
  param: (p: Param) => Value;
}

/** An activation function applied elementwise. */
export function activate(g: Graph, x: Value, act: Activation): Value {
  switch (act) {
    case 'gelu':
      // 0.5 x (1 + erf(x / sqrt 2)), ONNX Gelu-20
      return g.gelu(x);
    case 'gelu_new': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = g.mul(g.mul(x, x), x);
      const inner = g.mul(g.add(x, g.mul(cube, g.const(0.044715))), g.const(Math.sqrt(2 / Math.PI)));
      return g.mul(g.mul(x, g.const(0.5)), g.add(g.const(1), g.tanh(inner)));
    }
    case 'relu':
      return g.relu(x);
    case 'tanh':
      return g.tanh(x);
    case 'identity':
      return x;
  }
}

export interface ForwardOptions {
  /** compute the last layer for every token (default: token 0 only, all the heads read) */
  readonly fullLastLayer?: boolean;
  /** sees every Linear with its input: token-major [B*T, in], or [B, in] for the heads */
  readonly tap?: (lin: Linear, x: Value) => void;
  /** every parameter is a float32 graph input named after it (training: weights change each run) */
  readonly paramInputs?: boolean;
}

/**
 * Builds the forward graph. Inputs: input_ids, attention_mask [B,T] int64, token_type_ids when
 * the model has token types, then the mask inputs of `maskMode`.
 */
export function buildForward(
  model: EncoderModel,
  maskMode: MaskMode,
  heads: readonly ClassificationHead[],
  options: ForwardOptions = {},
): ForwardGraph {
  const g = new Graph();
  const w = new Weights(g, options.paramInputs === true);
  const { hidden, numHeads: H, headSize: d, intermediate: I } = model.dims;
  const ids = g.input('input_ids', 'int64', [BATCH, SEQ]);
  const att = g.input('attention_mask', 'int64', [BATCH, SEQ]);
  const e = model.embeddings;
  const types = e.tokenType ? g.input('token_type_ids', 'int64', [BATCH, SEQ]) : undefined;
  const L = model.layers.length;
  // per-layer views of the mask inputs: head [H,1,1] / [B,H,1,1] (scales the context [B,H,T,d]),
  // neuron [1,I] / [B,1,I]
  let headMask: Value | undefined;
  let neuronMask: Value | undefined;
  let headMasks: Value[] = [];
  let neuronMasks: Value[] = [];
  if (maskMode !== 'none') {
    const ex = maskMode === 'example';
    headMask = g.input(HEAD_MASK, 'float32', ex ? [BATCH, L, H] : [L, H]);
    neuronMask = g.input(NEURON_MASK, 'float32', ex ? [BATCH, L, I] : [L, I]);
    const ones = new Array<number>(L).fill(1);
    headMasks = g
      .split(headMask, ex ? 1 : 0, ones)
      .map((m) => g.reshape(m, ex ? [-1, H, 1, 1] : [H, 1, 1], ex ? [BATCH, H, 1, 1] : [H, 1, 1]));
    neuronMasks = g.split(neuronMask, ex ? 1 : 0, ones);
  }
  // activations are token-major [N = B*T, width] so every linear is one Gemm with its bias
  const linear = (x: Value, lin: Linear, scale?: number) => {
    options.tap?.(lin, x);
    let wt = w.get(lin.weight);
    let b = lin.bias ? w.get(lin.bias) : undefined;
    if (scale !== undefined) {
      // constant-folded by ONNX Runtime: (x W^T + b) * s computed as x (s W)^T + s b
      wt = g.mul(wt, g.const(scale));
      b = b && g.mul(b, g.const(scale));
    }
    return g.gemm(x, wt, b, true);
  };
  const norm = (x: Value, n: LayerNorm) => g.layerNorm(x, w.get(n.weight), w.get(n.bias), n.eps);

  // embeddings [B,T,E]
  let x3 = g.gather(w.get(e.word), ids, 0);
  let pos: Value;
  if (e.positionIds.kind === 'absolute') {
    const T = g.dimOf(ids, 1);
    const range = g.range(g.const(0, 'int64'), T, g.const(1, 'int64'), SEQ);
    pos = g.gather(w.get(e.position), range, 0); // [T, E]
  } else {
    const pad = g.const(e.positionIds.padTokenId, 'int64');
    const notPad = g.cast(g.not(g.equal(ids, pad)), 'int64');
    const posIds = g.add(g.mul(g.cumSum(notPad, 1), notPad), pad);
    pos = g.gather(w.get(e.position), posIds, 0);
  }
  x3 = g.add(x3, pos);
  if (e.tokenType) x3 = g.add(x3, g.gather(w.get(e.tokenType), types!, 0));
  x3 = norm(x3, e.norm);
  const E = model.dims.embeddingSize;
  let x = g.reshape(x3, [-1, E], [TOKENS, E]);
  if (e.project) x = linear(x, e.project);

  // runtime shapes [B,T,...]
  const bt = g.shapeOf(ids);
  const shapeBTHd = g.concat([bt, g.const([H, d], 'int64')], 0);
  const shapeBTh = g.concat([bt, g.const([hidden], 'int64')], 0);
  const shapeBTI = g.concat([bt, g.const([I], 'int64')], 0);

  // additive attention mask [B,1,1,T]
  const attF = g.cast(att, 'float32');
  const maskAdd = g.unsqueeze(g.mul(g.sub(g.const(1), attF), g.const(F32_MIN)), [1, 2]);

  const scaleQ = 1 / Math.sqrt(d);
  const heads4 = (v: Value) => g.reshape(v, shapeBTHd, [BATCH, SEQ, H, d]);
  // the last layer's outputs matter only at token 0 (the heads read nothing else), so it computes
  // queries, attention output and feed-forward for that token alone: [B, hidden] rows
  const lastLayer = options.fullLastLayer ? -1 : L - 1;
  let first: Value | undefined;
  model.layers.forEach((layer, l) => {
    const kT = g.transpose(heads4(linear(x, layer.key)), [0, 2, 3, 1]); // [B,H,d,T]
    const v = g.transpose(heads4(linear(x, layer.value)), [0, 2, 1, 3]); // [B,H,T,d]
    if (l === lastLayer) {
      const x0 = g.gather(g.reshape(x, shapeBTh, [BATCH, SEQ, hidden]), g.const(0, 'int64'), 1); // [B, hidden]
      const q = g.reshape(linear(x0, layer.query, scaleQ), [-1, H, 1, d], [BATCH, H, 1, d]);
      const probs = g.softmax(g.add(g.matmul(q, kT), maskAdd)); // [B,H,1,T]
      let ctx = g.matmul(probs, v); // [B,H,1,d]
      if (maskMode !== 'none') ctx = g.mul(ctx, headMasks[l]);
      // [B,H,1,d] is laid out as [B, H*d]: no transpose
      const a = norm(
        g.add(linear(g.reshape(ctx, [-1, hidden], [BATCH, hidden]), layer.attentionOutput), x0),
        layer.attentionNorm,
      );
      let f = activate(g, linear(a, layer.intermediate), model.activation); // [B, I]
      if (maskMode === 'shared') f = g.mul(f, neuronMasks[l]);
      if (maskMode === 'example') f = g.mul(f, g.reshape(neuronMasks[l], [-1, I], [BATCH, I]));
      first = norm(g.add(linear(f, layer.output), a), layer.outputNorm);
      return;
    }
    const q = g.transpose(heads4(linear(x, layer.query, scaleQ)), [0, 2, 1, 3]); // [B,H,T,d]
    const probs = g.softmax(g.add(g.matmul(q, kT), maskAdd)); // [B,H,T,T]
    let ctx = g.matmul(probs, v); // [B,H,T,d]
    // masking a head's attention probabilities scales its context rows: (m P) V = m (P V)
    if (maskMode !== 'none') ctx = g.mul(ctx, headMasks[l]);
    ctx = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [-1, hidden], [TOKENS, hidden]);
    const a = norm(g.add(linear(ctx, layer.attentionOutput), x), layer.attentionNorm);
    let f = activate(g, linear(a, layer.intermediate), model.activation);
    if (maskMode === 'shared') f = g.mul(f, neuronMasks[l]);
    if (maskMode === 'example') {
      f = g.reshape(g.mul(g.reshape(f, shapeBTI, [BATCH, SEQ, I]), neuronMasks[l]), [-1, I], [TOKENS, I]);
    }
    x = norm(g.add(linear(f, layer.output), a), layer.outputNorm);
  });

  // heads on token 0 (an encoder without layers: the embeddings' token 0)
  first ??= g.gather(g.reshape(x, shapeBTh, [BATCH, SEQ, hidden]), g.const(0, 'int64'), 1); // [B, hidden]
  const cls = first;
  const logits = heads.map((head) => {
    let z = cls;
    for (const step of head.steps) z = activate(g, linear(z, step.linear), step.activation);
    return z;
  });
  return {
    graph: g,
    attentionMask: att,
    logits,
    headMask,
    neuronMask,
    tokenTypes: !!e.tokenType,
    params: w.cache,
    hidden: options.fullLastLayer ? x : undefined,
    linear: (xv, lin) => linear(xv, lin),
    norm,
    param: (p) => w.get(p),
  };
}

/**
 * Per-example losses [B] of a head: cross-entropy against one-hot labels [B, C] (input `labels`),
 * or squared error against targets [B, 1] when numLabels == 1.
 */
export function addLosses(g: Graph, logits: Value, numLabels: number): Value {
  if (numLabels === 1) {
    const target = g.input('labels', 'float32', [BATCH, 1]);
    const diff = g.sub(logits, target);
    return g.reduceSum(g.mul(diff, diff), [1], false);
  }
  const oneHot = g.input('labels', 'float32', [BATCH, numLabels]);
  return g.neg(g.reduceSum(g.mul(oneHot, g.logSoftmax(logits)), [1], false));
}

/** Input of the `model` objective: per example and class, the weight of log p(c|x) (or of y_hat). */
export const CLASS_WEIGHTS = 'class_weights';
/** Output of the `model` objective's graphs for classification: p(c|x) [B, C]. */
export const CLASS_PROBS = 'class_probs';

/**
 * What a gradient graph differentiates, per example [B]: `loss` = addLosses (input `labels`);
 * `model` (METHOD.md 3, the model's own labels) = sum_c w_ic log p(c|x_i), or w_i y_hat_i for
 * regression, with w the input `class_weights` [B, C] (one-hot column c: the class-c term), and
 * (classification) the output `class_probs`.
 */
export type Objective = 'loss' | 'model';

export function addObjective(g: Graph, logits: Value, numLabels: number, objective: Objective): Value {
  if (objective === 'loss') return addLosses(g, logits, numLabels);
  const w = g.input(CLASS_WEIGHTS, 'float32', [BATCH, numLabels]);
  if (numLabels === 1) return g.reduceSum(g.mul(w, logits), [1], false);
  g.output(g.identityNamed(g.softmax(logits), CLASS_PROBS));
  return g.reduceSum(g.mul(w, g.logSoftmax(logits)), [1], false);
}

export function classificationHead(model: EncoderModel): ClassificationHead {
  if (model.head?.kind !== 'classification') {
    throw new Error(`the model has no classification head (head: ${model.head?.kind ?? 'none'})`);
  }
  return model.head;
}

/** logits graph: output `logits`. */
export function logitsGraph(model: EncoderModel): Graph {
  const f = buildForward(model, 'none', [classificationHead(model)]);
  f.graph.output(f.graph.identityNamed(f.logits[0], 'logits'));
  return f.graph;
}

/** losses graph with shared or per-example masks: output `losses` [B]. */
export function lossGraph(model: EncoderModel, mode: 'shared' | 'example'): Graph {
  const head = classificationHead(model);
  const f = buildForward(model, mode, [head]);
  const losses = addLosses(f.graph, f.logits[0], head.numLabels);
  f.graph.output(f.graph.identityNamed(losses, 'losses'));
  return f.graph;
}

/**
 * Mask-gradient graph: outputs `losses` [B] (the per-example objective) and head_grad /
 * neuron_grad shaped like the mask inputs. `shared`: gradient of the mean loss; `example`: of the
 * summed loss w.r.t. per-example masks (so example i's slice is dLoss_i/dm_i); with the `model`
 * objective (per-example masks only) example i's slice is d(sum_c w_ic log p(c|x_i))/dm_i.
 */
export function maskGradientGraph(
  model: EncoderModel,
  mode: 'shared' | 'example',
  objectiveKind: Objective = 'loss',
): Graph {
  const head = classificationHead(model);
  if (objectiveKind === 'model' && mode !== 'example')
    throw new Error('the model objective differentiates per-example masks');
  const f = buildForward(model, mode, [head]);
  const g = f.graph;
  const losses = addObjective(g, f.logits[0], head.numLabels, objectiveKind);
  const objective = mode === 'shared' ? g.reduceMean(losses, [0], false) : g.reduceSum(losses, [0], false);
  const [headGrad, neuronGrad] = gradients(g, objective, [f.headMask!, f.neuronMask!]);
  if (!headGrad || !neuronGrad) throw new Error('internal: the loss does not depend on the masks');
  g.output(g.identityNamed(losses, 'losses'));
  g.output(g.identityNamed(headGrad, HEAD_GRAD));
  g.output(g.identityNamed(neuronGrad, NEURON_GRAD));
  return g;
}

/** Output name of the squared gradient of a parameter in the full-Fisher graph. */
export const squaredGradName = (k: number) => `sq_grad_${k}`;

/**
 * Full diagonal Fisher graph (METHOD.md section 4), run on batches of one example: outputs
 * `losses` and, for parameter k of encoderParams order, sq_grad_k = (dLoss/dtheta_k)^2 (with the
 * `model` objective, the squared gradient of the class_weights-weighted log-probability).
 * Parameters the loss does not reach are left out (their squared gradient is 0).
 */
export function squaredGradientGraph(
  model: EncoderModel,
  objectiveKind: Objective = 'loss',
): { graph: Graph; outputs: (string | undefined)[] } {
  const head = classificationHead(model);
  const f = buildForward(model, 'none', [head]);
  const g = f.graph;
  const losses = addObjective(g, f.logits[0], head.numLabels, objectiveKind);
  const objective = g.reduceSum(losses, [0], false);
  const params = encoderParams(model);
  const values = params.map((p) => f.params.get(p));
  const present = values.filter((v): v is Value => v !== undefined);
  const grads = gradients(g, objective, present);
  g.output(g.identityNamed(losses, 'losses'));
  const byValue = new Map(present.map((v, k) => [v.id, grads[k]]));
  const outputs = values.map((v, k) => {
    const gv = v && byValue.get(v.id);
    if (!gv) return undefined;
    g.output(g.identityNamed(g.mul(gv, gv), squaredGradName(k)));
    return squaredGradName(k);
  });
  return { graph: g, outputs };
}
