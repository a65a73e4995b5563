/**
 * The compute layout: the encoder's parameters as the tensors the forward pass uses. Linear
 * weights are stored transposed ([in, out], so the forward matmul needs no transpose flag, the
 * fast path of the wasm backend) and a layer's query/key/value are fused into one [in, 3*out]
 * matrix. Every HuggingFace parameter maps to a block of one compute tensor, so gradients and
 * trained values map straight back by name.
 */
import {
  FmnError,
  encoderParams,
  type Activation,
  type EncoderModel,
  type LayerNorm,
  type Linear,
  type Param,
  type PositionIds,
} from '@fmn/core';

export interface CLinear {
  /** key of the [in, out] weight */
  readonly wt: string;
  readonly b?: string;
  readonly inDim: number;
  readonly outDim: number;
}
export interface CNorm {
  readonly g: string;
  readonly b: string;
  readonly eps: number;
}
export interface CLayer {
  readonly qkv: CLinear;
  readonly out: CLinear;
  readonly norm1: CNorm;
  readonly ffn1: CLinear;
  readonly ffn2: CLinear;
  readonly norm2: CNorm;
}
export type CHead =
  | {
      readonly kind: 'classification';
      readonly numLabels: number;
      readonly steps: readonly { lin: CLinear; act: Activation }[];
    }
  | {
      readonly kind: 'masked-lm';
      readonly transform: CLinear;
      readonly act: Activation;
      readonly norm: CNorm;
      /** [vocab, E], possibly the word embedding key (tied) */
      readonly decoder: string;
      readonly decoderBias: string;
    };

export interface Plan {
  readonly dims: EncoderModel['dims'];
  readonly activation: Activation;
  readonly emb: {
    readonly word: string;
    readonly position: string;
    readonly tokenType?: string;
    readonly norm: CNorm;
    readonly project?: CLinear;
    readonly positionIds: PositionIds;
  };
  readonly layers: readonly CLayer[];
  readonly head?: CHead;
}

export interface HostTensor {
  readonly shape: number[];
  readonly data: Float32Array;
  /** weight decay applies (matrices), not to biases and LayerNorm parameters */
  readonly decay: boolean;
}

/** Where a HuggingFace parameter lives: columns [c0, c1) of a compute tensor, transposed or not. */
export interface ParamSpec {
  readonly param: Param;
  readonly key: string;
  /** HF [out, in] = compute[:, c0:c1]^T */
  readonly transposed: boolean;
  readonly c0: number;
  readonly c1: number;
}

export interface Layout {
  readonly plan: Plan;
  readonly tensors: Map<string, HostTensor>;
  readonly specs: readonly ParamSpec[];
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new FmnError(`invalid encoder description: ${msg}`);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Builds the compute layout of a model (copies every tensor). */
export function buildLayout(model: EncoderModel): Layout {
  const tensors = new Map<string, HostTensor>();
  const specs: ParamSpec[] = [];
  const keyOf = new Map<Param, string>();

  const checkParam = (p: Param, shape: readonly number[]) => {
    check(
      p.shape.length === shape.length && p.shape.every((s, i) => s === shape[i]),
      `${p.name} has shape [${p.shape.join(', ')}], expected [${shape.join(', ')}]`,
    );
    check(
      p.data.length === numel(shape),
      `${p.name} holds ${p.data.length} values, its shape needs ${numel(shape)}`,
    );
  };
  const direct = (p: Param, shape: readonly number[], decay: boolean): string => {
    const known = keyOf.get(p);
    if (known) return known;
    checkParam(p, shape);
    const key = p.name;
    tensors.set(key, { shape: [...shape], data: Float32Array.from(p.data), decay });
    specs.push({
      param: p,
      key,
      transposed: false,
      c0: 0,
      c1: shape.length === 1 ? shape[0] : shape[shape.length - 1],
    });
    keyOf.set(p, key);
    return key;
  };
  /** several linears with the same input, fused column-wise */
  const fused = (lins: readonly Linear[], inDim: number, outDims: readonly number[]): CLinear => {
    const total = outDims.reduce((a, b) => a + b, 0);
    const key = lins.map((l) => l.weight.name).join('+');
    const wt = new Float32Array(inDim * total);
    let c = 0;
    lins.forEach((l, j) => {
      const out = outDims[j];
      checkParam(l.weight, [out, inDim]);
      const w = l.weight.data;
      for (let o = 0; o < out; o++) for (let i = 0; i < inDim; i++) wt[i * total + c + o] = w[o * inDim + i];
      specs.push({ param: l.weight, key, transposed: true, c0: c, c1: c + out });
      c += out;
    });
    tensors.set(key, { shape: [inDim, total], data: wt, decay: true });
    const withBias = lins.filter((l) => l.bias).length;
    check(withBias === 0 || withBias === lins.length, `${key}: fused linears must all have biases or none`);
    let b: string | undefined;
    if (withBias) {
      b = lins.map((l) => l.bias!.name).join('+');
      const bd = new Float32Array(total);
      c = 0;
      lins.forEach((l, j) => {
        checkParam(l.bias!, [outDims[j]]);
        bd.set(l.bias!.data, c);
        specs.push({ param: l.bias!, key: b!, transposed: false, c0: c, c1: c + outDims[j] });
        c += outDims[j];
      });
      tensors.set(b, { shape: [total], data: bd, decay: false });
    }
    return { wt: key, b, inDim, outDim: total };
  };
  const linear = (l: Linear, inDim: number, outDim: number): CLinear => fused([l], inDim, [outDim]);
  const norm = (n: LayerNorm, dim: number): CNorm => ({
    g: direct(n.weight, [dim], false),
    b: direct(n.bias, [dim], false),
    eps: n.eps,
  });

  const d = model.dims;
  check(
    d.hidden === d.numHeads * d.headSize,
    `hidden ${d.hidden} != heads ${d.numHeads} x head size ${d.headSize}`,
  );
  check(model.layers.length === d.numLayers, `${model.layers.length} layers, dims say ${d.numLayers}`);
  const e = model.embeddings;
  const E = d.embeddingSize;
  const emb = {
    word: direct(e.word, [d.vocabSize, E], true),
    position: direct(e.position, [d.maxPositions, E], true),
    tokenType: e.tokenType ? direct(e.tokenType, [d.typeVocabSize, E], true) : undefined,
    norm: norm(e.norm, E),
    project: e.project ? linear(e.project, E, d.hidden) : undefined,
    positionIds: e.positionIds,
  };
  check(
    emb.project !== undefined || E === d.hidden,
    `embedding size ${E} != hidden ${d.hidden} and no embeddings_project`,
  );
  const h = d.hidden;
  const layers = model.layers.map((l) => ({
    qkv: fused([l.query, l.key, l.value], h, [h, h, h]),
    out: linear(l.attentionOutput, h, h),
    norm1: norm(l.attentionNorm, h),
    ffn1: linear(l.intermediate, h, d.intermediate),
    ffn2: linear(l.output, d.intermediate, h),
    norm2: norm(l.outputNorm, h),
  }));
  let head: CHead | undefined;
  const mh = model.head;
  if (mh?.kind === 'classification') {
    let inDim = h;
    const steps = mh.steps.map((s) => {
      const out = s.linear.weight.shape[0];
      const lin = linear(s.linear, inDim, out);
      inDim = out;
      return { lin, act: s.activation };
    });
    check(
      inDim === mh.numLabels,
      `the classification head ends with ${inDim} outputs, numLabels is ${mh.numLabels}`,
    );
    head = { kind: 'classification', numLabels: mh.numLabels, steps };
  } else if (mh?.kind === 'masked-lm') {
    const transform = linear(mh.transform, h, E);
    head = {
      kind: 'masked-lm',
      transform,
      act: mh.activation,
      norm: norm(mh.norm, E),
      decoder: direct(mh.decoder, [d.vocabSize, E], true),
      decoderBias: direct(mh.decoderBias, [d.vocabSize], false),
    };
  }
  const plan: Plan = { dims: d, activation: model.activation, emb, layers, head };
  // every parameter of the model is placed exactly once
  const placed = new Set(specs.map((s) => s.param));
  for (const p of encoderParams(model))
    check(placed.has(p), `parameter ${p.name} is not used by the forward pass`);
  return { plan, tensors, specs };
}

/** The HuggingFace tensor of a spec, read from the compute tensor's values. */
export function extractParam(spec: ParamSpec, data: Float32Array, shape: readonly number[]): Float32Array {
  if (!spec.transposed) {
    if (shape.length === 1) return data.slice(spec.c0, spec.c1);
    return Float32Array.from(data);
  }
  const [inDim, total] = shape;
  const out = spec.c1 - spec.c0;
  const r = new Float32Array(out * inDim);
  for (let i = 0; i < inDim; i++) {
    const row = i * total + spec.c0;
    for (let o = 0; o < out; o++) r[o * inDim + i] = data[row + o];
  }
  return r;
}
