/**
 * A small ONNX graph builder with static shape tracking (dims are numbers or symbolic names such
 * as "batch"), enough for the encoder graphs and their reverse-mode derivatives (autodiff.ts).
 * Values are created by the op helpers; `toModel` serialises the graph as an ONNX ModelProto
 * (opset 20) whose large initializers live outside the protobuf (external data).
 */
import { ATTR_TYPE, DATA_LOCATION_EXTERNAL, ONNX_DTYPE, encodeModel } from './proto.js';

export const OPSET = 20;

export type Dim = number | string;
export type DType = 'float32' | 'int64' | 'bool';

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** set for graph inputs */
  readonly isInput?: boolean;
  /** set for initializers */
  readonly init?: Initializer;
}

export interface Initializer {
  readonly data: Float32Array | BigInt64Array;
  /** stored outside the protobuf (external data) */
  readonly external: boolean;
}

export type AttrValue =
  number | number[] | string | { floats: number[] } | { int: number } | { float: number };

export interface Node {
  readonly op: string;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** Result shape of numpy-style broadcasting of static shapes. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number')
      throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly initializers: Value[] = [];
  readonly outputs: Value[] = [];
  private next = 0;
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Value>();

  private value(dtype: DType, shape: readonly Dim[], name?: string, extra: Partial<Value> = {}): Value {
    const id = this.next++;
    const n = name ?? `v${id}`;
    if (this.names.has(n)) throw new Error(`duplicate value name ${n}`);
    this.names.add(n);
    return { id, name: n, dtype, shape: [...shape], ...extra };
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    const v = this.value(dtype, shape, name, { isInput: true });
    this.inputs.push(v);
    return v;
  }

  /** A weight tensor; `external` ones are kept out of the protobuf. */
  initializer(
    name: string,
    shape: readonly number[],
    data: Float32Array | BigInt64Array,
    external = true,
  ): Value {
    const dtype: DType = data instanceof Float32Array ? 'float32' : 'int64';
    const v = this.value(dtype, shape, name, { init: { data, external } });
    this.initializers.push(v);
    return v;
  }

  /** A small constant (inline in the protobuf), cached by value. */
  const(values: number | readonly number[], dtype: DType = 'float32', shape?: readonly number[]): Value {
    const arr = typeof values === 'number' ? [values] : [...values];
    const sh = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `${dtype}:${sh.join('x')}:${arr.join(',')}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const data = dtype === 'int64' ? BigInt64Array.from(arr.map((x) => BigInt(x))) : Float32Array.from(arr);
    const v = this.value(dtype, sh, undefined, { init: { data, external: false } });
    this.initializers.push(v);
    this.scalarCache.set(key, v);
    return v;
  }

  /** An Identity node whose output has the given name (graph outputs get stable names). */
  identityNamed(x: Value, name: string): Value {
    const out = this.value(x.dtype, x.shape, name);
    this.nodes.push({ op: 'Identity', inputs: [x], outputs: [out], attrs: {} });
    return out;
  }

  output(v: Value): void {
    this.outputs.push(v);
  }

  /** Appends a node with the given output shapes/dtypes. */
  node(
    op: string,
    inputs: (Value | undefined)[],
    attrs: Record<string, AttrValue>,
    outs: { dtype: DType; shape: readonly Dim[] }[],
  ): Value[] {
    const outputs = outs.map((o) => this.value(o.dtype, o.shape));
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs;
  }

  private unary(op: string, x: Value, attrs: Record<string, AttrValue> = {}): Value {
    return this.node(op, [x], attrs, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  private binary(op: string, a: Value, b: Value, dtype?: DType): Value {
    return this.node(op, [a, b], {}, [
      { dtype: dtype ?? a.dtype, shape: broadcastShapes(a.shape, b.shape) },
    ])[0];
  }

  // ---- elementwise ----
  add(a: Value, b: Value): Value {
    return this.binary('Add', a, b);
  }
  sub(a: Value, b: Value): Value {
    return this.binary('Sub', a, b);
  }
  mul(a: Value, b: Value): Value {
    return this.binary('Mul', a, b);
  }
  div(a: Value, b: Value): Value {
    return this.binary('Div', a, b);
  }
  equal(a: Value, b: Value): Value {
    return this.binary('Equal', a, b, 'bool');
  }
  greater(a: Value, b: Value): Value {
    return this.binary('Greater', a, b, 'bool');
  }
  neg(x: Value): Value {
    return this.unary('Neg', x);
  }
  not(x: Value): Value {
    return this.unary('Not', x);
  }
  exp(x: Value): Value {
    return this.unary('Exp', x);
  }
  sqrt(x: Value): Value {
    return this.unary('Sqrt', x);
  }
  reciprocal(x: Value): Value {
    return this.unary('Reciprocal', x);
  }
  erf(x: Value): Value {
    return this.unary('Erf', x);
  }
  tanh(x: Value): Value {
    return this.unary('Tanh', x);
  }
  relu(x: Value): Value {
    return this.unary('Relu', x);
  }
  identity(x: Value): Value {
    return this.unary('Identity', x);
  }
  cast(x: Value, to: DType): Value {
    return this.node('Cast', [x], { to: { int: ONNX_DTYPE[to] } }, [{ dtype: to, shape: x.shape }])[0];
  }

  /** exact (erf) GELU, ONNX Gelu-20 */
  gelu(x: Value): Value {
    return this.unary('Gelu', x);
  }

  // ---- linear algebra ----
  /** Gemm: a [M,K] times b ([K,N], or [N,K] when transB) plus c (broadcast to [M,N]). */
  gemm(a: Value, b: Value, c: Value | undefined, transB: boolean): Value {
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('gemm: 2-D operands expected');
    const shape = [a.shape[0], transB ? b.shape[0] : b.shape[1]];
    const inputs = c ? [a, b, c] : [a, b];
    return this.node('Gemm', inputs, { transB: transB ? 1 : 0 }, [{ dtype: 'float32', shape }])[0];
  }

  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error('matmul: rank >= 2 expected');
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
    return this.node('MatMul', [a, b], {}, [{ dtype: 'float32', shape }])[0];
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.node('Transpose', [x], { perm: [...perm] }, [
      { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) },
    ])[0];
  }

  /** Swaps the last two axes. */
  transposeLast(x: Value): Value {
    const r = x.shape.length;
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }

  // ---- normalisation / softmax ----
  softmax(x: Value): Value {
    return this.unary('Softmax', x, { axis: -1 });
  }
  logSoftmax(x: Value): Value {
    return this.unary('LogSoftmax', x, { axis: -1 });
  }
  layerNorm(x: Value, scale: Value, bias: Value, eps: number): Value {
    return this.node('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: eps } }, [
      { dtype: 'float32', shape: x.shape },
    ])[0];
  }

  // ---- reductions (axes as an input, opset 13+/18 style via attribute for opset 17 ReduceMean) ----
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = axes.map((a) => normAxis(a, r));
    const shape = keepdims
      ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !ax.includes(i));
    return this.node('ReduceSum', [x, this.const(ax, 'int64')], { keepdims: keepdims ? 1 : 0 }, [
      { dtype: x.dtype, shape },
    ])[0];
  }
  reduceMean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = axes.map((a) => normAxis(a, r));
    const shape = keepdims
      ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !ax.includes(i));
    return this.node('ReduceMean', [x, this.const(ax, 'int64')], { keepdims: keepdims ? 1 : 0 }, [
      { dtype: x.dtype, shape },
    ])[0];
  }

  // ---- shapes ----
  shapeOf(x: Value): Value {
    return this.node('Shape', [x], {}, [{ dtype: 'int64', shape: [x.shape.length] }])[0];
  }
  sizeOf(x: Value): Value {
    return this.node('Size', [x], {}, [{ dtype: 'int64', shape: [] }])[0];
  }
  /** Reshape to `target` (ONNX semantics: 0 copies the input dim, -1 is inferred); `shape` = the static result. */
  reshape(x: Value, target: readonly number[] | Value, shape: readonly Dim[]): Value {
    const t = Array.isArray(target) ? this.const(target as number[], 'int64') : (target as Value);
    return this.node('Reshape', [x, t], {}, [{ dtype: x.dtype, shape }])[0];
  }
  /** Reshape x to the runtime shape of `like`. */
  reshapeLike(x: Value, like: Value): Value {
    return this.reshape(x, this.shapeOf(like), like.shape);
  }
  expand(x: Value, shapeValue: Value, shape: readonly Dim[]): Value {
    return this.node('Expand', [x, shapeValue], {}, [{ dtype: x.dtype, shape }])[0];
  }
  unsqueeze(x: Value, axes: readonly number[]): Value {
    const r = x.shape.length + axes.length;
    const ax = axes.map((a) => normAxis(a, r));
    const shape: Dim[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[k++]);
    return this.node('Unsqueeze', [x, this.const(ax, 'int64')], {}, [{ dtype: x.dtype, shape }])[0];
  }
  /** Gather along `axis` with `indices` (its shape replaces that axis). */
  gather(data: Value, indices: Value, axis = 0): Value {
    const a = normAxis(axis, data.shape.length);
    const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
    return this.node('Gather', [data, indices], { axis: a }, [{ dtype: data.dtype, shape }])[0];
  }
  /** The runtime length of axis `axis` of x as an int64 scalar. */
  dimOf(x: Value, axis: number): Value {
    return this.gather(this.shapeOf(x), this.const(normAxis(axis, x.shape.length), 'int64'), 0);
  }
  concat(values: readonly Value[], axis: number): Value {
    const a = normAxis(axis, values[0].shape.length);
    const total = values.reduce<Dim>(
      (n, v) =>
        typeof n === 'number' && typeof v.shape[a] === 'number' ? n + (v.shape[a] as number) : `concat`,
      0,
    );
    const shape = values[0].shape.map((d, i) => (i === a ? total : d));
    return this.node('Concat', [...values], { axis: a }, [{ dtype: values[0].dtype, shape }])[0];
  }
  /** Split along `axis` into pieces of the given static sizes. */
  split(x: Value, axis: number, sizes: readonly number[]): Value[] {
    const a = normAxis(axis, x.shape.length);
    const outs = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) }));
    return this.node('Split', [x, this.const(sizes, 'int64')], { axis: a }, outs);
  }
  /** ScatterND (reduction add) of `updates` into `data` at `indices` [..., k]. */
  scatterNDAdd(data: Value, indices: Value, updates: Value): Value {
    return this.node('ScatterND', [data, indices, updates], { reduction: 'add' }, [
      { dtype: data.dtype, shape: data.shape },
    ])[0];
  }
  range(start: Value, limit: Value, delta: Value, length: Dim): Value {
    return this.node('Range', [start, limit, delta], {}, [{ dtype: start.dtype, shape: [length] }])[0];
  }
  cumSum(x: Value, axis: number): Value {
    return this.node('CumSum', [x, this.const(axis, 'int64')], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  /**
   * The ModelProto: initializers marked external get `location` from `locate` (file name and
   * offset); small ones are inline. Returns the serialised bytes.
   */
  /**
   * The ModelProto. `locate` places each external initializer in an external data file, or
   * returns undefined to keep its bytes inside the protobuf.
   */
  toModel(
    locate: (v: Value) => { location: string; offset: number } | undefined,
    docString = '',
  ): Uint8Array {
    const used = new Set<number>();
    for (const n of this.nodes) for (const i of n.inputs) if (i) used.add(i.id);
    for (const o of this.outputs) used.add(o.id);
    const valueInfo = (v: Value) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: ONNX_DTYPE[v.dtype],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const tensor = (v: Value) => {
      const data = v.init!.data;
      const base = { name: v.name, dims: v.shape as number[], dataType: ONNX_DTYPE[v.dtype] };
      const where = v.init!.external ? locate(v) : undefined;
      if (!where) {
        return { ...base, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
      }
      const { location, offset } = where;
      return {
        ...base,
        dataLocation: DATA_LOCATION_EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(data.byteLength) },
        ],
      };
    };
    const attribute = (name: string, a: AttrValue) => {
      if (typeof a === 'number') return { name, type: ATTR_TYPE.INT, i: a };
      if (typeof a === 'string') return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a) };
      if (Array.isArray(a)) return { name, type: ATTR_TYPE.INTS, ints: a };
      if ('floats' in a) return { name, type: ATTR_TYPE.FLOATS, floats: a.floats };
      if ('float' in a) return { name, type: ATTR_TYPE.FLOAT, f: a.float };
      return { name, type: ATTR_TYPE.INT, i: a.int };
    };
    const graph = {
      name: 'fmn',
      node: this.nodes.map((n, k) => ({
        name: `n${k}_${n.op}`,
        opType: n.op,
        input: n.inputs.map((i) => i?.name ?? ''),
        output: n.outputs.map((o) => o.name),
        attribute: Object.entries(n.attrs).map(([k2, a]) => attribute(k2, a)),
      })),
      initializer: this.initializers.filter((v) => used.has(v.id)).map(tensor),
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
    };
    return encodeModel({
      irVersion: 8,
      producerName: 'fmn',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph,
    });
  }
}
