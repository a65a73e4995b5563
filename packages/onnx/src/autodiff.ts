/**
 * Reverse-mode automatic differentiation over the graph builder: one gradient rule per operator,
 * emitting standard ONNX operators into the same graph. Only the values on a path from the
 * differentiated inputs (`wrt`) to the objective get gradients, so a mask pass computes no
 * parameter gradients.
 */
import type { Graph, Node, Value } from './graph.js';

/** A rule: given the node, the gradients of its outputs (undefined = zero) and which inputs need one. */
export type GradRule = (
  g: Graph,
  node: Node,
  gOut: (Value | undefined)[],
  needs: boolean[],
) => (Value | undefined)[];

/**
 * Sums `grad` (shaped like the broadcast result) down to the shape of `target` (numpy broadcasting
 * undone): leading extra axes and axes where target has a static 1 are summed.
 */
export function unbroadcast(g: Graph, grad: Value, target: Value): Value {
  const r = grad.shape.length;
  const ra = target.shape.length;
  const axes: number[] = [];
  for (let i = 0; i < r; i++) {
    const j = i - (r - ra);
    if (j < 0 || (target.shape[j] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return grad;
  const summed = g.reduceSum(grad, axes, true);
  return r === ra ? summed : g.reshapeLike(summed, target);
}

const rules: Record<string, GradRule> = {
  Identity: (_g, _n, [gy]) => [gy],
  Add: (g, n, [gy], needs) => {
    const [a, b] = n.inputs as Value[];
    return [needs[0] ? unbroadcast(g, gy!, a) : undefined, needs[1] ? unbroadcast(g, gy!, b) : undefined];
  },
  Sub: (g, n, [gy], needs) => {
    const [a, b] = n.inputs as Value[];
    return [
      needs[0] ? unbroadcast(g, gy!, a) : undefined,
      needs[1] ? unbroadcast(g, g.neg(gy!), b) : undefined,
    ];
  },
  Mul: (g, n, [gy], needs) => {
    const [a, b] = n.inputs as Value[];
    return [
      needs[0] ? unbroadcast(g, g.mul(gy!, b), a) : undefined,
      needs[1] ? unbroadcast(g, g.mul(gy!, a), b) : undefined,
    ];
  },
  Div: (g, n, [gy], needs) => {
    const [a, b] = n.inputs as Value[];
    const y = n.outputs[0];
    return [
      needs[0] ? unbroadcast(g, g.div(gy!, b), a) : undefined,
      // d(a/b)/db = -y/b
      needs[1] ? unbroadcast(g, g.neg(g.div(g.mul(gy!, y), b)), b) : undefined,
    ];
  },
  Neg: (g, _n, [gy]) => [g.neg(gy!)],
  Exp: (g, n, [gy]) => [g.mul(gy!, n.outputs[0])],
  Erf: (g, n, [gy]) => {
    const x = n.inputs[0]!;
    // d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
    const e = g.exp(g.neg(g.mul(x, x)));
    return [g.mul(gy!, g.mul(e, g.const(2 / Math.sqrt(Math.PI))))];
  },
  Tanh: (g, n, [gy]) => {
    const y = n.outputs[0];
    return [g.mul(gy!, g.sub(g.const(1), g.mul(y, y)))];
  },
  Relu: (g, n, [gy]) => {
    const x = n.inputs[0]!;
    return [g.mul(gy!, g.cast(g.greater(x, g.const(0)), 'float32'))];
  },
  Gelu: (g, n, [gy]) => {
    const x = n.inputs[0]!;
    if (n.attrs.approximate !== undefined && n.attrs.approximate !== 'none')
      throw new Error('Gelu gradient: exact form only');
    // d gelu = Phi(x) + x phi(x) = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)
    const cdf = g.add(g.mul(g.erf(g.mul(x, g.const(Math.SQRT1_2))), g.const(0.5)), g.const(0.5));
    const pdf = g.mul(g.exp(g.mul(g.mul(x, x), g.const(-0.5))), g.const(1 / Math.sqrt(2 * Math.PI)));
    return [g.mul(gy!, g.add(cdf, g.mul(x, pdf)))];
  },
  Gemm: (g, n, [gy], needs) => {
    const [a, b, c] = n.inputs as (Value | undefined)[];
    const transB = n.attrs.transB === 1;
    if (n.attrs.transA || n.attrs.alpha !== undefined || n.attrs.beta !== undefined)
      throw new Error('Gemm gradient: plain a b (+ c) only');
    return [
      // y = a b' (+ c), b' = transB ? b^T : b: da = gy b'^T, db' = a^T gy
      needs[0] ? g.gemm(gy!, b!, undefined, !transB) : undefined,
      needs[1]
        ? transB
          ? g.matmul(g.transposeLast(gy!), a!)
          : g.matmul(g.transposeLast(a!), gy!)
        : undefined,
      needs[2] && c ? unbroadcast(g, gy!, c) : undefined,
    ];
  },
  MatMul: (g, n, [gy], needs) => {
    const [a, b] = n.inputs as Value[];
    return [
      needs[0] ? unbroadcast(g, g.matmul(gy!, g.transposeLast(b)), a) : undefined,
      needs[1] ? unbroadcast(g, g.matmul(g.transposeLast(a), gy!), b) : undefined,
    ];
  },
  Split: (g, n, gOut) => {
    // the pieces' gradients side by side; a piece without one contributes zeros
    const pieces = gOut.map((gy, j) => gy ?? g.mul(n.outputs[j], g.const(0)));
    return [g.concat(pieces, n.attrs.axis as number), undefined];
  },
  Transpose: (g, n, [gy]) => {
    const perm = n.attrs.perm as number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [g.transpose(gy!, inv)];
  },
  Reshape: (g, n, [gy]) => [g.reshapeLike(gy!, n.inputs[0]!), undefined],
  Unsqueeze: (g, n, [gy]) => [g.reshapeLike(gy!, n.inputs[0]!), undefined],
  Expand: (g, n, [gy]) => [unbroadcast(g, gy!, n.inputs[0]!), undefined],
  Softmax: (g, n, [gy]) => {
    const y = n.outputs[0];
    if ((n.attrs.axis as number) !== -1) throw new Error('Softmax gradient: axis -1 only');
    // dx = y * (gy - sum(gy * y))
    return [g.mul(y, g.sub(gy!, g.reduceSum(g.mul(gy!, y), [-1], true)))];
  },
  LogSoftmax: (g, n, [gy]) => {
    const y = n.outputs[0];
    if ((n.attrs.axis as number) !== -1) throw new Error('LogSoftmax gradient: axis -1 only');
    // dx = gy - softmax * sum(gy)
    return [g.sub(gy!, g.mul(g.exp(y), g.reduceSum(gy!, [-1], true)))];
  },
  LayerNormalization: (g, n, [gy], needs) => {
    const [x, gamma, beta] = n.inputs as Value[];
    if ((n.attrs.axis as number) !== -1) throw new Error('LayerNormalization gradient: axis -1 only');
    const eps = (n.attrs.epsilon as { float: number }).float;
    // recompute the normalised input: xhat = (x - mean) * invstd
    const xc = g.sub(x, g.reduceMean(x, [-1], true));
    const invstd = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), [-1], true), g.const(eps))));
    const xhat = g.mul(xc, invstd);
    let gx: Value | undefined;
    if (needs[0]) {
      const gh = g.mul(gy!, gamma);
      // dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat))
      const inner = g.sub(
        g.sub(gh, g.reduceMean(gh, [-1], true)),
        g.mul(xhat, g.reduceMean(g.mul(gh, xhat), [-1], true)),
      );
      gx = g.mul(inner, invstd);
    }
    return [
      gx,
      needs[1] ? unbroadcast(g, g.mul(gy!, xhat), gamma) : undefined,
      needs[2] ? unbroadcast(g, gy!, beta) : undefined,
    ];
  },
  ReduceSum: (g, n, [gy]) => {
    const x = n.inputs[0]!;
    const axesInit = n.inputs[1]!.init!.data as BigInt64Array;
    const axes = Array.from(axesInit, Number);
    const keep = n.attrs.keepdims === 1 ? gy! : g.unsqueeze(gy!, axes);
    return [g.expand(keep, g.shapeOf(x), x.shape), undefined];
  },
  ReduceMean: (g, n, [gy]) => {
    const x = n.inputs[0]!;
    const axes = Array.from(n.inputs[1]!.init!.data as BigInt64Array, Number);
    const y = n.outputs[0];
    const keep = n.attrs.keepdims === 1 ? gy! : g.unsqueeze(gy!, axes);
    const count = g.div(g.cast(g.sizeOf(x), 'float32'), g.cast(g.sizeOf(y), 'float32'));
    return [g.div(g.expand(keep, g.shapeOf(x), x.shape), count), undefined];
  },
  Gather: (g, n, [gy], needs) => {
    const [data, indices] = n.inputs as Value[];
    if (!needs[0]) return [undefined, undefined];
    const axis = n.attrs.axis as number;
    const idx = indices.init?.data;
    if (axis === 0 && !(indices.shape.length === 0 && idx)) {
      // embedding lookup: add each gathered row's gradient back into a zero table
      const zeros = g.expand(g.const(0), g.shapeOf(data), data.shape);
      return [g.scatterNDAdd(zeros, g.unsqueeze(indices, [-1]), gy!), undefined];
    }
    if (indices.shape.length !== 0 || !idx)
      throw new Error('Gather gradient: constant scalar indices or axis 0 only');
    // scatter back along `axis`: the unsqueezed gradient times a one-hot vector over that axis
    const len = g.dimOf(data, axis);
    const positions = g.range(g.const(0, 'int64'), len, g.const(1, 'int64'), data.shape[axis]);
    const oneHot = g.cast(g.equal(positions, indices), 'float32');
    const r = data.shape.length;
    const shape = Array.from({ length: r }, (_, i) => (i === axis ? -1 : 1));
    const oneHotB = g.reshape(
      oneHot,
      shape,
      shape.map((d) => (d === -1 ? data.shape[axis] : 1)),
    );
    return [g.mul(g.unsqueeze(gy!, [axis]), oneHotB), undefined];
  },
};

/** Operators with a gradient rule (for tests and error messages). */
export const DIFFERENTIABLE_OPS = Object.keys(rules);

/**
 * Appends to `g` the gradient of `objective` w.r.t. each of `wrt`, seeded with `seed` (ones when
 * absent; `objective` must then be a scalar). Returns one gradient per `wrt` entry (a zeros-free
 * graph: an input the objective does not depend on gets `undefined`).
 */
export function gradients(
  g: Graph,
  objective: Value,
  wrt: readonly Value[],
  seed?: Value,
): (Value | undefined)[] {
  const nodes = [...g.nodes];
  // forward: which values depend on a wrt value
  const live = new Set<number>(wrt.map((v) => v.id));
  for (const n of nodes) {
    if (n.inputs.some((i) => i && live.has(i.id))) for (const o of n.outputs) live.add(o.id);
  }
  if (!live.has(objective.id)) return wrt.map(() => undefined);
  const acc = new Map<number, Value[]>();
  const push = (v: Value, gv: Value) => {
    const list = acc.get(v.id);
    if (list) list.push(gv);
    else acc.set(v.id, [gv]);
  };
  const total = (v: Value): Value | undefined => {
    const list = acc.get(v.id);
    if (!list) return undefined;
    if (list.length > 1) {
      let s = list[0];
      for (let k = 1; k < list.length; k++) s = g.add(s, list[k]);
      acc.set(v.id, [s]);
    }
    return acc.get(v.id)![0];
  };
  if (objective.shape.length !== 0 && !seed)
    throw new Error('gradients: a non-scalar objective needs a seed');
  push(objective, seed ?? g.const(1));
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!n.outputs.some((o) => live.has(o.id))) continue;
    const gOut = n.outputs.map(total);
    if (gOut.every((x) => x === undefined)) continue;
    const needs = n.inputs.map((i) => !!i && live.has(i.id) && i.dtype === 'float32');
    if (!needs.some(Boolean)) continue;
    const rule = rules[n.op];
    if (!rule) throw new Error(`no gradient rule for ONNX operator ${n.op}`);
    const gIn = rule(g, n, gOut, needs);
    n.inputs.forEach((i, j) => {
      if (i && needs[j] && gIn[j]) push(i, gIn[j]);
    });
  }
  return wrt.map(total);
}
