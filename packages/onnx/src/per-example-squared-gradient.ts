/**
 * Full diagonal Fisher of a whole batch in one pass (METHOD.md section 4): per parameter, the sum
 * over the batch's examples of the squared per-example gradient, without running one example at a
 * time. Examples are independent (no batch statistics), so the gradient of the summed loss w.r.t.
 * an activation row of example b is dLoss_b/d(that row); one backward pass gives those activation
 * gradients, and each parameter's per-example gradient is formed from them:
 *
 * - a linear y = x W^T + c over token rows: dLoss_b/dW = sum_t gy[b,t]^T x[b,t], one batched MatMul
 *   [B,out,T] x [B,T,in]; squared and summed over b. Over example rows (the last layer's token-0
 *   path, the heads) the per-example gradient is one outer product, whose square is
 *   (gy^2)^T (x^2): one MatMul. Biases: gy summed over the example's tokens, squared, summed.
 *   A weight scaled by a constant before use (the queries' 1/sqrt(d)) gets the constant squared.
 * - LayerNorm scale / bias: gy * xhat / gy summed per example, squared, summed.
 * - embedding tables (Gather): the gradient w.r.t. the gathered rows [B,T,E] and their indices are
 *   graph outputs; the caller adds each example's rows by index (a sparse scatter) and squares
 *   (`accumulateEmbeddingSquares`). A table gathered without the batch axis (absolute positions
 *   [T,E], broadcast over the batch by an Add) takes the gradient of that Add's output.
 */
import { encoderParams, type EncoderModel } from '@fmn/core';
import { gradients } from './autodiff.js';
import { addLosses, buildForward, classificationHead, BATCH, SEQ } from './encoder-graph.js';
import type { Graph, Node, Value } from './graph.js';

/** How parameter k of encoderParams order gets its squared per-example gradient. */
export type PerExampleOutput =
  | { kind: 'dense'; name: string }
  | { kind: 'embedding'; grad: string; indices: string; broadcast: boolean }
  | { kind: 'none' };

export interface PerExampleGraph {
  graph: Graph;
  /** one entry per encoderParams(model) entry */
  outputs: PerExampleOutput[];
}

const TOKENS = 'tokens';

/** Rows of a 2-D activation: per token ([B*T, n]), per example ([B, n]); a 3-D [B,T,n] is per token. */
function rowsOf(v: Value): 'token' | 'example' {
  if (v.shape.length === 3 && v.shape[0] === BATCH && v.shape[1] === SEQ) return 'token';
  if (v.shape.length === 2 && v.shape[0] === TOKENS) return 'token';
  if (v.shape.length === 2 && v.shape[0] === BATCH) return 'example';
  throw new Error(`per-example Fisher: activation of shape [${v.shape.join(',')}] has no batch rows`);
}

export function perExampleSquaredGradientGraph(model: EncoderModel): PerExampleGraph {
  const head = classificationHead(model);
  const f = buildForward(model, 'none', [head]);
  const g = f.graph;
  const forward = [...g.nodes];
  const losses = addLosses(g, f.logits[0], head.numLabels);
  const objective = g.reduceSum(losses, [0], false);
  const ids = g.inputs.find((v) => v.name === 'input_ids')!;
  const bt = g.shapeOf(ids);

  const consumers = (v: Value): Node[] => forward.filter((n) => n.inputs.some((i) => i?.id === v.id));
  /** Follows a constant scaling (Mul by a scalar initializer): the used value and the factor. */
  const through = (v: Value): { use: Value; factor: number; node: Node } => {
    let use = v;
    let factor = 1;
    for (;;) {
      const cs = consumers(use);
      if (cs.length !== 1) throw new Error(`per-example Fisher: ${v.name} is used ${cs.length} times`);
      const n = cs[0];
      const other = n.inputs.find((i) => i && i.id !== use.id);
      const k = other?.init?.data;
      if (n.op === 'Mul' && k instanceof Float32Array && k.length === 1) {
        factor *= k[0];
        use = n.outputs[0];
        continue;
      }
      return { use, factor, node: n };
    }
  };

  type Plan =
    | { kind: 'gemm'; which: 'weight' | 'bias'; x: Value; y: Value; factor: number }
    | { kind: 'norm'; which: 'scale' | 'bias'; node: Node; y: Value }
    | { kind: 'gather'; indices: Value; y: Value; broadcast: boolean }
    | { kind: 'none' };
  const params = encoderParams(model);
  const plans: Plan[] = params.map((p) => {
    const v = f.params.get(p);
    if (!v) return { kind: 'none' };
    const { use, factor, node } = through(v);
    const slot = node.inputs.findIndex((i) => i?.id === use.id);
    if (node.op === 'Gemm' && slot === 1 && node.attrs.transB === 1)
      return { kind: 'gemm', which: 'weight', x: node.inputs[0]!, y: node.outputs[0], factor };
    if (node.op === 'Gemm' && slot === 2)
      return { kind: 'gemm', which: 'bias', x: node.inputs[0]!, y: node.outputs[0], factor };
    if (node.op === 'LayerNormalization' && slot > 0)
      return { kind: 'norm', which: slot === 1 ? 'scale' : 'bias', node, y: node.outputs[0] };
    if (node.op === 'Gather' && slot === 0 && node.attrs.axis === 0 && factor === 1) {
      const out = node.outputs[0];
      if (out.shape[0] === BATCH)
        return { kind: 'gather', indices: node.inputs[1]!, y: out, broadcast: false };
      // [T,E] rows broadcast over the batch by one Add: that Add's output holds the per-example rows
      const [add] = consumers(out);
      if (add?.op === 'Add' && consumers(out).length === 1 && add.outputs[0].shape[0] === BATCH)
        return { kind: 'gather', indices: node.inputs[1]!, y: add.outputs[0], broadcast: true };
    }
    throw new Error(`per-example Fisher: no rule for ${p.name} used by ${node.op} (input ${slot})`);
  });

  // one backward pass to every activation a parameter touches
  const wrt = new Map<number, Value>();
  for (const plan of plans) if (plan.kind !== 'none') wrt.set(plan.y.id, plan.y);
  const list = [...wrt.values()];
  const grads = gradients(g, objective, list);
  const gradOf = new Map(list.map((v, k) => [v.id, grads[k]]));

  /** [B*T, n] or [B,T,n] -> [B,T,n] (runtime shape). */
  const perToken = (v: Value): Value => {
    const n = v.shape[v.shape.length - 1] as number;
    return v.shape.length === 3 ? v : g.reshape(v, g.concat([bt, g.const([n], 'int64')], 0), [BATCH, SEQ, n]);
  };
  /** sum over the batch of the squares of per-example sums over tokens ([B,T,n] or [B,n] rows). */
  const sumSquaresOfExampleSums = (v: Value, rows: 'token' | 'example'): Value => {
    const per = rows === 'token' ? g.reduceSum(perToken(v), [1], false) : v; // [B, n]
    return g.reduceSum(g.mul(per, per), [0], false);
  };
  let out = 0;
  const outputs: PerExampleOutput[] = plans.map((plan, k) => {
    if (plan.kind === 'none') return { kind: 'none' };
    const gy = gradOf.get(plan.y.id);
    if (!gy) return { kind: 'none' }; // the loss does not reach it
    if (plan.kind === 'gather') {
      const grad = `emb_grad_${k}`;
      const indices = `emb_indices_${k}`;
      g.output(g.identityNamed(gy, grad));
      g.output(g.identityNamed(plan.indices, indices));
      return { kind: 'embedding', grad, indices, broadcast: plan.broadcast };
    }
    let sq: Value;
    if (plan.kind === 'gemm') {
      const rows = rowsOf(plan.y);
      if (plan.which === 'bias') sq = sumSquaresOfExampleSums(gy, rows);
      else if (rows === 'example') {
        // per example an outer product gy_b^T x_b: its square is gy_b^2^T x_b^2, summed over b by one MatMul
        sq = g.matmul(g.transposeLast(g.mul(gy, gy)), g.mul(plan.x, plan.x));
      } else {
        const G = g.matmul(g.transpose(perToken(gy), [0, 2, 1]), perToken(plan.x)); // [B,out,in]
        sq = g.reduceSum(g.mul(G, G), [0], false);
      }
      if (plan.factor !== 1) sq = g.mul(sq, g.const(plan.factor * plan.factor));
    } else {
      const rows = rowsOf(plan.y);
      if (plan.which === 'bias') sq = sumSquaresOfExampleSums(gy, rows);
      else {
        const x = plan.node.inputs[0]!;
        const eps = (plan.node.attrs.epsilon as { float: number }).float;
        const xc = g.sub(x, g.reduceMean(x, [-1], true));
        const invstd = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), [-1], true), g.const(eps))));
        sq = sumSquaresOfExampleSums(g.mul(gy, g.mul(xc, invstd)), rows);
      }
    }
    const name = `pe_sq_grad_${out++}_${k}`;
    g.output(g.identityNamed(sq, name));
    return { kind: 'dense', name };
  });
  g.output(g.identityNamed(losses, 'losses'));
  return { graph: g, outputs };
}

/**
 * Adds to `acc` (a [rows, E] table) the squared per-example gradient of an embedding table:
 * `grad` [B,T,E] holds dLoss_b/d(gathered row t of example b), `indices` [B,T] (or [T] for
 * `broadcast`, the same rows for every example) which table row it came from. Each example's rows
 * with the same index are added before squaring (its gradient), then the squares summed over examples.
 */
export function accumulateEmbeddingSquares(
  acc: Float32Array,
  grad: Float32Array,
  indices: BigInt64Array,
  B: number,
  T: number,
  E: number,
  broadcast: boolean,
): void {
  const sum = new Float64Array(E);
  for (let b = 0; b < B; b++) {
    const rows = new Map<number, number[]>();
    for (let t = 0; t < T; t++) {
      const r = Number(indices[broadcast ? t : b * T + t]);
      const list = rows.get(r);
      if (list) list.push(t);
      else rows.set(r, [t]);
    }
    for (const [r, ts] of rows) {
      sum.fill(0);
      for (const t of ts) {
        const o = (b * T + t) * E;
        for (let e = 0; e < E; e++) sum[e] += grad[o + e];
      }
      const a = r * E;
      for (let e = 0; e < E; e++) acc[a + e] += sum[e] * sum[e];
    }
  }
}
