/**
 * Every gradient rule against central finite differences of the same ONNX graph, on small random
 * graphs: objective = sum(w * f(inputs)) with random w, so every entry of the gradient matters.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Rng, expectClose } from '@fmn/testkit';
import { DIFFERENTIABLE_OPS, gradients } from './autodiff.js';
import { Graph, type Value } from './graph.js';
import { externalDataOf } from './external-data.js';

interface Case {
  /** input shapes (static) */
  inputs: Record<string, number[]>;
  /** keep inputs away from kinks / poles: |x| >= minAbs (sign kept), or positive when `positive` */
  positive?: string[];
  build: (g: Graph, x: Record<string, Value>) => Value;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function check(c: Case, seed = 1): Promise<{ opsUsed: Set<string> }> {
  const rng = new Rng(seed);
  const g = new Graph();
  const x: Record<string, Value> = {};
  for (const [name, shape] of Object.entries(c.inputs)) x[name] = g.input(name, 'float32', shape);
  const out = c.build(g, x);
  const opsUsed = new Set(g.nodes.map((n) => n.op));
  const w = g.const(Array.from(rng.normals(size(out.shape as number[]))), 'float32', out.shape as number[]);
  const objective = g.reduceSum(
    g.mul(out, w),
    out.shape.map((_, i) => i),
    false,
  );
  const names = Object.keys(c.inputs);
  const grads = gradients(
    g,
    objective,
    names.map((n) => x[n]),
  );
  g.output(g.identityNamed(objective, 'objective'));
  grads.forEach((gv, k) => g.output(g.identityNamed(gv!, `grad_${names[k]}`)));
  const { bytes, files } = externalDataOf(g);
  const session = await ort.InferenceSession.create(bytes, { externalData: files, intraOpNumThreads: 1 });
  try {
    const values: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(c.inputs)) {
      const v = rng.normals(size(shape));
      for (let i = 0; i < v.length; i++) {
        // away from 0 (ReLU's kink, division poles) by at least 0.2
        const s = v[i] < 0 ? -1 : 1;
        v[i] = c.positive?.includes(name) ? 0.5 + Math.abs(v[i]) : s * (0.2 + Math.abs(v[i]));
      }
      values[name] = v;
    }
    const run = async (vals: Record<string, Float32Array>) => {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, shape] of Object.entries(c.inputs))
        feeds[name] = new ort.Tensor('float32', vals[name], shape);
      return session.run(feeds);
    };
    const base = await run(values);
    const h = 1e-2;
    for (const name of names) {
      const analytic = base[`grad_${name}`].data as Float32Array;
      expect(Array.from(base[`grad_${name}`].dims)).toEqual(c.inputs[name]);
      const fd = new Float64Array(analytic.length);
      for (let i = 0; i < fd.length; i++) {
        const plus = { ...values, [name]: Float32Array.from(values[name]) };
        const minus = { ...values, [name]: Float32Array.from(values[name]) };
        plus[name][i] += h;
        minus[name][i] -= h;
        const fp = ((await run(plus)).objective.data as Float32Array)[0];
        const fm = ((await run(minus)).objective.data as Float32Array)[0];
        fd[i] = (fp - fm) / (2 * h);
      }
      expectClose(analytic, fd, 2e-3, 1e-2, `d objective / d ${name}`);
    }
  } finally {
    await session.release();
  }
  return { opsUsed };
}

const covered = new Set<string>();
const cases: Record<string, Case> = {
  'Add, Sub, Mul, Div with broadcasting': {
    inputs: { a: [2, 3, 4], b: [3, 1], c: [4] },
    positive: ['c'],
    build: (g, { a, b, c }) => g.sub(g.add(g.mul(a, b), g.div(a, c)), g.div(b, c)),
  },
  'MatMul with a broadcast batch and a shared matrix': {
    inputs: { a: [2, 3, 4], b: [4, 5] },
    build: (g, { a, b }) => g.matmul(a, b),
  },
  'MatMul batched on both sides with broadcasting': {
    inputs: { a: [2, 1, 3, 4], b: [3, 4, 2] },
    build: (g, { a, b }) => g.matmul(a, b),
  },
  'Gemm with and without transB, with a broadcast bias': {
    inputs: { a: [3, 4], b: [5, 4], c: [5], d: [5, 2] },
    build: (g, { a, b, c, d }) => g.gemm(g.gemm(a, b, c, true), d, undefined, false),
  },
  'Gelu (exact)': {
    inputs: { x: [3, 5] },
    build: (g, { x }) => g.gelu(x),
  },
  'Softmax and LogSoftmax': {
    inputs: { x: [2, 3, 5] },
    build: (g, { x }) => g.add(g.softmax(x), g.logSoftmax(g.mul(x, g.const(0.7)))),
  },
  'LayerNormalization (input, scale and bias)': {
    inputs: { x: [2, 3, 6], gamma: [6], beta: [6] },
    build: (g, { x, gamma, beta }) => g.layerNorm(x, gamma, beta, 1e-5),
  },
  'Erf, Tanh, Relu, Exp, Neg': {
    inputs: { x: [3, 4] },
    build: (g, { x }) =>
      g.add(g.add(g.erf(x), g.tanh(g.mul(x, x))), g.add(g.relu(x), g.neg(g.exp(g.mul(x, g.const(0.3)))))),
  },
  'Reshape, Transpose, Unsqueeze, Expand': {
    inputs: { x: [2, 6], y: [3, 1] },
    build: (g, { x, y }) => {
      const r = g.transpose(g.reshape(x, [2, 3, 2], [2, 3, 2]), [1, 0, 2]); // [3,2,2]
      const e = g.expand(g.unsqueeze(y, [2]), g.const([3, 2, 2], 'int64'), [3, 2, 2]);
      return g.mul(r, e);
    },
  },
  'Split (one piece unused)': {
    inputs: { x: [2, 5, 3] },
    build: (g, { x }) => {
      const [a, , c] = g.split(x, 1, [2, 1, 2]);
      return g.mul(a, c);
    },
  },
  'Gather of one position': {
    inputs: { x: [2, 4, 3] },
    build: (g, { x }) => g.mul(g.gather(x, g.const(1, 'int64'), 1), g.gather(x, g.const(0, 'int64'), 1)),
  },
  'Gather of table rows (embedding lookup, repeated indices)': {
    inputs: { table: [5, 3] },
    build: (g, { table }) => g.gather(table, g.const([1, 3, 1, 0, 1, 4], 'int64', [2, 3]), 0),
  },
  'ReduceSum and ReduceMean, keepdims on and off': {
    inputs: { x: [2, 3, 4] },
    build: (g, { x }) => {
      const a = g.reduceSum(g.mul(x, x), [2], true); // [2,3,1]
      const b = g.reduceMean(x, [0], false); // [3,4]
      return g.add(g.mul(a, b), g.unsqueeze(g.reduceMean(g.reduceSum(x, [1], false), [1], true), [1])); // [2,3,4]
    },
  },
  'Identity and the cross-entropy / squared-error losses': {
    inputs: { logits: [3, 4], pred: [3, 1] },
    build: (g, { logits, pred }) => {
      const oneHot = g.const([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0], 'float32', [3, 4]);
      const ce = g.neg(g.reduceSum(g.mul(oneHot, g.logSoftmax(logits)), [1], false));
      const d = g.sub(pred, g.const([0.5, -1, 2], 'float32', [3, 1]));
      const mse = g.reduceSum(g.mul(d, d), [1], false);
      return g.identity(g.add(g.reduceMean(ce, [0], false), g.reduceSum(mse, [0], false)));
    },
  },
};

describe('gradient rules match finite differences', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const { opsUsed } = await check(c);
      for (const op of opsUsed) covered.add(op);
    });
  }
  it('every operator with a rule is exercised above', () => {
    const missing = DIFFERENTIABLE_OPS.filter((op) => !covered.has(op));
    expect(missing).toEqual([]);
  });
});

describe('gradients()', () => {
  it('gives no gradient to an input the objective does not depend on, and emits no nodes for it', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2]);
    const b = g.input('b', 'float32', [2]);
    const y = g.reduceSum(g.mul(a, a), [0], false);
    void g.mul(b, b);
    const before = g.nodes.length;
    const [ga, gb] = gradients(g, y, [a, b]);
    expect(ga).toBeDefined();
    expect(gb).toBeUndefined();
    // d(sum a^2) = ReduceSum' (Expand via Shape) and Mul' (two Muls, one Add): no node reads b
    for (const n of g.nodes.slice(before)) expect(n.inputs.some((i) => i?.id === b.id)).toBe(false);
  });

  it('refuses an operator without a rule, naming it', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2]);
    const y = g.reduceSum(g.sqrt(a), [0], false);
    expect(() => gradients(g, y, [a])).toThrow(/no gradient rule for ONNX operator Sqrt/);
  });
});
