/**
 * The forward pass of METHOD.md sections 1-2 in tfjs ops, written for the wasm backend's fast
 * path (2D matmuls without transpose flags) and with hand-written gradients where tfjs's own are
 * slow (matmul with transposes) or missing on wasm (gather needs UnsortedSegmentSum).
 *
 * Everything here is synchronous and must run inside a tf.tidy (or tf.grads).
 */
import { FmnError, type Activation, type Batch } from '@fmn/core';
import type { CLinear, CNorm, Plan } from './params.js';
import { tf } from './runtime.js';

/** float32's most negative finite value (HuggingFace's additive attention mask). */
export const F32_MIN = -3.4028234663852886e38;

export type Lookup = (key: string) => tf.Tensor;

type GradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** tf.customGrad with the save function typed as the last argument. */
function customGrad<A extends unknown[]>(
  f: (...args: A) => { value: tf.Tensor; gradFunc: GradFunc },
): (...xs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (
    ...xs: tf.Tensor[]
  ) => tf.Tensor;
}

export interface ForwardOptions {
  /** build the graph so that gradients w.r.t. parameters are available (else only activations) */
  readonly paramGrads: boolean;
  /** training-time dropout (0 or absent: eval mode, as METHOD.md) */
  readonly dropout?: { readonly rate: number; nextSeed: () => number };
  /**
   * Persistent [out, in] copies of linear weights, by weight key (input gradients then multiply by
   * a tensor the wasm backend has already packed, instead of a fresh transpose every call).
   */
  readonly transposed?: (key: string) => tf.Tensor2D | undefined;
  /** how attention products run (default 'auto') */
  readonly attention?: AttentionMode;
  /** sees the input of every linear layer (Gram matrices, METHOD.md 5.4) */
  readonly tap?: (lin: CLinear, x: tf.Tensor2D) => void;
}

/** Mask tensors: head [L,H] or per-example [B,L,H]; neuron [L,I] or [B,L,I]. */
export interface MaskTensors {
  readonly head: tf.Tensor;
  readonly neuron: tf.Tensor;
  readonly perExample: boolean;
}

/** The non-differentiable inputs of a batch, as tensors (create inside a tidy). */
export interface Inputs {
  readonly B: number;
  readonly T: number;
  readonly ids: tf.Tensor1D;
  readonly positions: tf.Tensor1D;
  readonly types?: tf.Tensor1D;
  /** (1 - attention_mask) * F32_MIN, [B, 1, 1, T] */
  readonly maskAdd: tf.Tensor4D;
}

export function positionIds(plan: Plan, batch: Batch): Int32Array {
  const { size: B, seqLen: T } = batch;
  const p = plan.emb.positionIds;
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let t = 0; t < T; t++) {
      if (p.kind === 'absolute') out[b * T + t] = t;
      else {
        const m = batch.inputIds[b * T + t] !== p.padTokenId ? 1 : 0;
        c += m;
        const pos = c * m + p.padTokenId;
        if (pos >= plan.dims.maxPositions) {
          throw new FmnError(
            `invalid batch: position id ${pos} exceeds max positions ${plan.dims.maxPositions}`,
          );
        }
        out[b * T + t] = pos;
      }
    }
  }
  return out;
}

export function makeInputs(plan: Plan, batch: Batch): Inputs {
  const { size: B, seqLen: T } = batch;
  const maskAdd = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) maskAdd[i] = (1 - batch.attentionMask[i]) * F32_MIN;
  return {
    B,
    T,
    ids: tf.tensor1d(batch.inputIds, 'int32'),
    positions: tf.tensor1d(positionIds(plan, batch), 'int32'),
    types: plan.emb.tokenType ? tf.tensor1d(batch.tokenTypeIds ?? new Int32Array(B * T), 'int32') : undefined,
    maskAdd: tf.tensor4d(maskAdd, [B, 1, 1, T]),
  };
}

/** Rows of a table; its gradient scatters (scatterND sums duplicates; wasm has no UnsortedSegmentSum). */
export function gatherRows(table: tf.Tensor, idx: tf.Tensor1D, opts: ForwardOptions): tf.Tensor2D {
  if (!opts.paramGrads) return tf.gather(table, idx) as tf.Tensor2D;
  const f = customGrad((t: tf.Tensor, save: tf.GradSaveFunc) => {
    // saved: tf.grads disposes the forward pass's intermediates (the indices may be one)
    save([tf.reshape(idx, [-1, 1])]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.scatterND(saved[0], dy as tf.Tensor, t.shape),
    };
  });
  return f(table) as tf.Tensor2D;
}

/**
 * y = x Wt + b with x [N, in], Wt [in, out]. The gradients use explicit 2D transposes and plain
 * matmuls (tfjs's default uses transpose flags, ten times slower on wasm).
 */
export function linear(x: tf.Tensor, lin: CLinear, W: Lookup, opts: ForwardOptions): tf.Tensor2D {
  const wt = W(lin.wt) as tf.Tensor2D;
  const bias = lin.b ? W(lin.b) : undefined;
  const x2 = x as tf.Tensor2D;
  opts.tap?.(lin, x2);
  if (!opts.paramGrads) {
    const w = opts.transposed?.(lin.wt);
    const f = customGrad((xi: tf.Tensor) => ({
      value: tf.fused.matMul({ a: xi as tf.Tensor2D, b: wt, bias }),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.matMul(dy as tf.Tensor2D, w ?? tf.transpose(wt)),
    }));
    return f(x2) as tf.Tensor2D;
  }
  if (bias) {
    const f = customGrad((xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xi, w]);
      return {
        value: tf.fused.matMul({ a: xi as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = dy as tf.Tensor2D;
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
        },
      };
    });
    return f(x2, wt, bias) as tf.Tensor2D;
  }
  const f = customGrad((xi: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, w]);
    return {
      value: tf.matMul(xi as tf.Tensor2D, w as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g)];
      },
    };
  });
  return f(x2, wt) as tf.Tensor2D;
}

/** Rows [i*n, (i+1)*n) of a 2D tensor. */
function rows(x: tf.Tensor2D, i: number, n: number): tf.Tensor2D {
  return tf.slice(x, [i * n, 0], [n, x.shape[1]]);
}

/** [G*r, c] -> [G*c, r]: each of the G row blocks transposed. */
function blockT(x: tf.Tensor2D, G: number): tf.Tensor2D {
  const [gr, c] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [G, gr / G, c]), [0, 2, 1]), [G * c, gr / G]);
}

/** out_i = a_i b_i for the G blocks of a [G*m, k] and b [G*k, n]: one 2D matmul per block. */
function blockMatMul(a: tf.Tensor2D, b: tf.Tensor2D, G: number): tf.Tensor2D {
  const m = a.shape[0] / G;
  const k = b.shape[0] / G;
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < G; i++) out.push(tf.matMul(rows(a, i, m), rows(b, i, k)));
  return tf.concat(out, 0);
}

/** How attention products run: batched matmuls, or one 2D matmul per (example, head). */
export type AttentionMode = 'auto' | 'batched' | 'per-head';

/**
 * 'auto' uses per-head matmuls on wasm from this many multiply-adds per head product (T*T*d):
 * below it the per-op overhead of G small matmuls outweighs the slow batched loop (measured with
 * forward + backward: 16 x 4 heads x 16 tokens x d 8, batched 3x faster; 8 x 4 x 32 x 16, even;
 * 32 x 4 x 64 x 32, per-head 2x faster; 16 x 12 x 128 x 64, per-head 4x faster).
 */
const PER_HEAD_MIN = 16384;

/**
 * softmax(q k^T + maskAdd) v for every (example, head); q, k, v [B, H, T, d], q already scaled.
 *
 * tfjs-backend-wasm runs batched matmuls ([B*H, T, d] @ ...) through a naive scalar loop, ten
 * times slower than its XNNPACK path for plain 2D matmuls, so on wasm every head's products are
 * separate 2D matmuls (with hand-written gradients, also made of 2D matmuls); other runtimes
 * use batched matmuls.
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  maskAdd: tf.Tensor4D,
  mode: AttentionMode = 'auto',
): tf.Tensor4D {
  const [B, H, T, d] = q.shape;
  if (mode === 'auto')
    mode = tf.engine().backendName === 'wasm' && T * T * d >= PER_HEAD_MIN ? 'per-head' : 'batched';
  if (mode === 'batched') {
    const G = B * H;
    const scores = tf.add(
      tf.reshape(tf.matMul(tf.reshape(q, [G, T, d]), tf.reshape(k, [G, T, d]), false, true), [B, H, T, T]),
      maskAdd,
    );
    return tf.reshape(tf.matMul(tf.reshape(tf.softmax(scores), [G, T, T]), tf.reshape(v, [G, T, d])), [
      B,
      H,
      T,
      d,
    ]);
  }
  const G = B * H;
  const f = customGrad((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const q2 = tf.reshape(qi, [G * T, d]) as tf.Tensor2D;
    const k2 = tf.reshape(ki, [G * T, d]) as tf.Tensor2D;
    const v2 = tf.reshape(vi, [G * T, d]) as tf.Tensor2D;
    const scores = tf.add(tf.reshape(blockMatMul(q2, blockT(k2, G), G), [B, H, T, T]), maskAdd);
    const p2 = tf.reshape(tf.softmax(scores), [G * T, T]) as tf.Tensor2D;
    save([q2, k2, v2, p2]);
    return {
      value: tf.reshape(blockMatMul(p2, v2, G), [B, H, T, d]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [qs, ks, vs, ps] = saved as tf.Tensor2D[];
        const g = tf.reshape(dy as tf.Tensor, [G * T, d]) as tf.Tensor2D;
        const dp = blockMatMul(g, blockT(vs, G), G);
        const dv = blockMatMul(blockT(ps, G), g, G);
        // softmax: dS = P * (dP - rowsum(dP * P))
        const ds = tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(dp, ps), -1, true))) as tf.Tensor2D;
        const dq = blockMatMul(ds, ks, G);
        const dk = blockMatMul(blockT(ds, G), qs, G);
        return [dq, dk, dv].map((t) => tf.reshape(t, [B, H, T, d]));
      },
    };
  });
  return f(q, k, v) as tf.Tensor4D;
}

/**
 * LayerNorm over the last axis, with a hand-written gradient that keeps only the normalised
 * input and the reciprocal standard deviations (tfjs's own keeps about eight tensors of x's size).
 */
export function layerNorm(x: tf.Tensor, n: CNorm, W: Lookup): tf.Tensor {
  const f = customGrad((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const xc = tf.sub(xi, tf.mean(xi, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), n.eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xh, rs, gs] = saved;
        const d = dy as tf.Tensor;
        const D = xh.shape[xh.rank - 1];
        const rowsOf = (t: tf.Tensor) => tf.reshape(t, [-1, D]);
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * g
        const dxh = tf.mul(d, gs);
        const dx = tf.mul(
          rs,
          tf.sub(tf.sub(dxh, tf.mean(dxh, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxh, xh), -1, true))),
        );
        return [dx, tf.sum(rowsOf(tf.mul(d, xh)), 0), tf.sum(rowsOf(d), 0)];
      },
    };
  });
  return f(x, W(n.g), W(n.b));
}

/**
 * x Φ(x) (erf GELU) with a hand-written gradient Φ(x) + x φ(x) that keeps only x for the
 * backward pass (tfjs's own keeps every intermediate: five [tokens, intermediate] tensors a layer).
 */
function gelu(x: tf.Tensor): tf.Tensor {
  const f = customGrad((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi]);
    return {
      value: tf.mul(tf.mul(xi, 0.5), tf.add(tf.erf(tf.mul(xi, Math.SQRT1_2)), 1)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs] = saved;
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(xs, Math.SQRT1_2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy as tf.Tensor, tf.add(cdf, tf.mul(xs, pdf)));
      },
    };
  });
  return f(x);
}

export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'gelu':
      return gelu(x);
    case 'gelu_new': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'identity':
      return x;
  }
}

function dropout(x: tf.Tensor, opts: ForwardOptions): tf.Tensor {
  const d = opts.dropout;
  if (!d || d.rate <= 0) return x;
  return tf.dropout(x, d.rate, undefined, d.nextSeed());
}

/** Final hidden states [B*T, hidden]. */
export function encode(
  plan: Plan,
  W: Lookup,
  inp: Inputs,
  masks: MaskTensors | undefined,
  opts: ForwardOptions,
): tf.Tensor2D {
  const { B, T } = inp;
  const { hidden: Hd, numHeads: H, headSize: d, intermediate: I } = plan.dims;
  const e = plan.emb;
  let x: tf.Tensor = tf.add(
    gatherRows(W(e.word), inp.ids, opts),
    gatherRows(W(e.position), inp.positions, opts),
  );
  if (e.tokenType && inp.types) x = tf.add(x, gatherRows(W(e.tokenType), inp.types, opts));
  x = layerNorm(x, e.norm, W);
  if (e.project) x = linear(x, e.project, W, opts);
  x = dropout(x, opts);
  const scale = 1 / Math.sqrt(d);
  plan.layers.forEach((layer, l) => {
    const qkv = linear(x, layer.qkv, W, opts); // [N, 3*Hd]
    // (a rank-4 transpose: rank 5 is many times slower on wasm)
    const heads = tf.transpose(tf.reshape(qkv, [B, T, 3 * H, d]), [0, 2, 1, 3]); // [B, 3H, T, d]
    const part = (i: number) => tf.slice(heads, [0, i * H, 0, 0], [B, H, T, d]);
    const q = tf.mul(part(0), scale) as tf.Tensor4D;
    let ctx: tf.Tensor;
    if (opts.dropout && opts.dropout.rate > 0) {
      // training with attention dropout: batched, as dropout sits between softmax and the product
      const G = B * H;
      const scores = tf.add(
        tf.reshape(tf.matMul(tf.reshape(q, [G, T, d]), tf.reshape(part(1), [G, T, d]), false, true), [
          B,
          H,
          T,
          T,
        ]),
        inp.maskAdd,
      );
      const probs = dropout(tf.softmax(scores), opts);
      ctx = tf.reshape(tf.matMul(tf.reshape(probs, [G, T, T]), tf.reshape(part(2), [G, T, d])), [B, H, T, d]);
    } else ctx = attention(q, part(1) as tf.Tensor4D, part(2) as tf.Tensor4D, inp.maskAdd, opts.attention);
    if (masks) {
      // multiplying the context equals multiplying the probabilities (METHOD.md 2)
      const m = masks.perExample
        ? tf.reshape(tf.slice(masks.head, [0, l, 0], [B, 1, H]), [B, H, 1, 1])
        : tf.reshape(tf.slice(masks.head, [l, 0], [1, H]), [1, H, 1, 1]);
      ctx = tf.mul(ctx, m);
    }
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, Hd]);
    const a = layerNorm(tf.add(dropout(linear(merged, layer.out, W, opts), opts), x), layer.norm1, W);
    let f = activate(linear(a, layer.ffn1, W, opts), plan.activation);
    if (masks) {
      f = masks.perExample
        ? tf.reshape(tf.mul(tf.reshape(f, [B, T, I]), tf.slice(masks.neuron, [0, l, 0], [B, 1, I])), [
            B * T,
            I,
          ])
        : tf.mul(f, tf.slice(masks.neuron, [l, 0], [1, I]));
    }
    x = layerNorm(tf.add(dropout(linear(f, layer.ffn2, W, opts), opts), a), layer.norm2, W);
  });
  return x as tf.Tensor2D;
}

/** Classification logits [B, numLabels] from the first token's hidden state. */
export function classify(
  plan: Plan,
  W: Lookup,
  hidden: tf.Tensor2D,
  inp: Inputs,
  opts: ForwardOptions,
): tf.Tensor2D {
  const head = plan.head;
  if (head?.kind !== 'classification') throw new FmnError('the model has no classification head');
  const Hd = plan.dims.hidden;
  let z: tf.Tensor = tf.reshape(tf.slice(tf.reshape(hidden, [inp.B, inp.T, Hd]), [0, 0, 0], [inp.B, 1, Hd]), [
    inp.B,
    Hd,
  ]);
  for (const s of head.steps) z = activate(linear(dropout(z, opts), s.lin, W, opts), s.act);
  return z as tf.Tensor2D;
}

/** Per-example losses [B]: cross-entropy, or squared error when numLabels == 1. */
export function exampleLosses(logits: tf.Tensor2D, labels: Float32Array): tf.Tensor1D {
  const C = logits.shape[1];
  if (C === 1) return tf.square(tf.sub(tf.reshape(logits, [-1]), tf.tensor1d(labels))) as tf.Tensor1D;
  const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), C);
  return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

/**
 * The `model` convention's objective for class c (METHOD.md 3): sum over examples of
 * log p(c|x_i), or of y_hat_i for regression (numLabels 1, where c is 0).
 */
export function classObjective(logits: tf.Tensor2D, c: number): tf.Scalar {
  if (logits.shape[1] === 1) return tf.sum(logits);
  return tf.sum(tf.slice(tf.logSoftmax(logits), [0, c], [-1, 1]));
}

/** The `model` convention's row weights [B, C]: p(c|x_i), or ones for regression. */
export function classWeights(logits: tf.Tensor2D): tf.Tensor2D {
  return logits.shape[1] === 1 ? tf.onesLike(logits) : tf.softmax(logits);
}

/**
 * Masked-LM loss: mean cross-entropy over the positions whose label is not -100 (sum and count
 * returned separately so callers can average over several chunks).
 */
export function mlmLossSum(
  plan: Plan,
  W: Lookup,
  hidden: tf.Tensor2D,
  tokenLabels: Int32Array,
  opts: ForwardOptions,
): { sum: tf.Scalar; count: number } {
  const head = plan.head;
  if (head?.kind !== 'masked-lm') throw new FmnError('the model has no masked-lm head');
  const rows: number[] = [];
  const targets: number[] = [];
  tokenLabels.forEach((y, i) => {
    if (y === -100) return;
    if (!(Number.isInteger(y) && y >= 0 && y < plan.dims.vocabSize)) {
      throw new FmnError(
        `invalid batch: token label ${y} at position ${i} is outside the vocabulary (size ${plan.dims.vocabSize})`,
      );
    }
    rows.push(i);
    targets.push(y);
  });
  if (rows.length === 0) return { sum: tf.scalar(0), count: 0 };
  const sel = gatherRows(hidden, tf.tensor1d(rows, 'int32'), opts);
  let z = activate(linear(sel, head.transform, W, opts), head.act);
  z = layerNorm(z, head.norm, W);
  // [E, V]: a plain matmul, the fast path; the gradient flows back through the transpose
  const decT = tf.transpose(W(head.decoder));
  const dec: CLinear = {
    wt: '\0decoderT',
    b: head.decoderBias,
    inDim: plan.dims.embeddingSize,
    outDim: plan.dims.vocabSize,
  };
  const logits = linear(z, dec, (key) => (key === dec.wt ? decT : W(key)), opts);
  const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), plan.dims.vocabSize);
  return { sum: tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)))) as tf.Scalar, count: rows.length };
}
