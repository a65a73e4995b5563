/** The tfjs Backend and ModelSession (METHOD.md sections 1-4). */
import {
  BACKEND_CONTRACT_VERSION,
  FmnError,
  checkConvention,
  maskConventionOf,
  maskLayoutOf,
  masksFor,
  validateBatch,
  type Backend,
  type BackendCapabilities,
  type Batch,
  type EncoderModel,
  type FisherConvention,
  type MaskGradients,
  type MaskLayout,
  type MaskValues,
  type ModelSession,
} from '@fmn/core';
import {
  classify,
  encode,
  exampleLosses,
  makeInputs,
  type AttentionMode,
  type ForwardOptions,
  type Lookup,
  type MaskTensors,
} from './forward.js';
import { buildLayout, extractParam, type CLinear, type Layout } from './params.js';
import { initRuntime, tf, type ModuleImporter, type Runtime, type RuntimeKind } from './runtime.js';

export interface TfjsOptions {
  /**
   * Largest number of tokens (examples x sequence length) put through one forward/backward pass;
   * bigger batches are split into chunks with identical results. Default: what keeps a gradient
   * pass's activations near 1.5 GB (measured on wasm: about 100 bytes per token, layer and unit
   * of hidden + intermediate size), at most 2048; BERT-base gets 349 tokens.
   */
  readonly maxChunkTokens?: number;
  /**
   * How attention products run: 'auto' (default) uses one 2D matmul per (example, head) on wasm
   * when heads are big enough to gain from it (wasm's batched matmul is a slow scalar loop), else
   * batched matmuls; 'batched' and 'per-head' force one way.
   */
  readonly attention?: AttentionMode;
  /** how @tensorflow/tfjs-node is imported (tests replace it) */
  readonly importer?: ModuleImporter;
}

/** Examples [start, end) of a batch. */
export function sliceExamples(batch: Batch, start: number, end: number): Batch {
  const T = batch.seqLen;
  return {
    size: end - start,
    seqLen: T,
    inputIds: batch.inputIds.subarray(start * T, end * T),
    attentionMask: batch.attentionMask.subarray(start * T, end * T),
    tokenTypeIds: batch.tokenTypeIds?.subarray(start * T, end * T),
    labels: batch.labels?.subarray(start, end),
  };
}

/** Example i alone, without its trailing padding (which changes nothing, METHOD.md 1). */
function trimmedExample(batch: Batch, i: number): Batch {
  const T = batch.seqLen;
  let len = T;
  while (len > 1 && batch.attentionMask[i * T + len - 1] === 0) len--;
  const one = sliceExamples(batch, i, i + 1);
  return {
    size: 1,
    seqLen: len,
    inputIds: one.inputIds.subarray(0, len),
    attentionMask: one.attentionMask.subarray(0, len),
    tokenTypeIds: one.tokenTypeIds?.subarray(0, len),
    labels: one.labels,
  };
}

/** Uploads a layout's tensors (as variables when trainable). */
export function uploadLayout(layout: Layout, variables: boolean): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [key, t] of layout.tensors) {
    const x = tf.tensor(t.data, t.shape, 'float32');
    if (variables) {
      out.set(key, tf.variable(x, true));
      x.dispose();
    } else out.set(key, x);
  }
  return out;
}

/** Largest number of linear-weight values whose transposed copies a session keeps (BERT-base: 85M). */
const TRANSPOSED_MAX = 128 * 1024 * 1024;

/** See TfjsOptions.maxChunkTokens. */
export function defaultChunkTokens(model: EncoderModel): number {
  const { numLayers, hidden, intermediate } = model.dims;
  const perToken = 100 * Math.max(1, numLayers) * (hidden + intermediate);
  return Math.max(1, Math.min(2048, Math.floor((1.5 * 2 ** 30) / perToken)));
}

export class TfjsSession implements ModelSession {
  readonly layout: MaskLayout;
  private readonly source: EncoderModel;
  private readonly model: Layout;
  private weights: Map<string, tf.Tensor> | undefined;
  private readonly chunkTokens: number;
  private readonly eval: ForwardOptions;
  private readonly withParams: ForwardOptions;

  constructor(
    private readonly rt: Runtime,
    model: EncoderModel,
    options: TfjsOptions = {},
  ) {
    this.layout = maskLayoutOf(model);
    this.source = model;
    this.model = buildLayout(model);
    this.weights = uploadLayout(this.model, false);
    this.chunkTokens = options.maxChunkTokens ?? defaultChunkTokens(model);
    this.eval = { paramGrads: false, attention: options.attention };
    this.withParams = { paramGrads: true, attention: options.attention };
  }

  private transposedW: Map<string, tf.Tensor2D> | undefined;

  /**
   * Forward options for mask gradients, with [out, in] copies of the linear weights made once on
   * the first call: the input gradients then multiply by a persistent matrix the wasm backend has
   * already packed, instead of transposing and packing every weight on every backward pass (the
   * backward matmuls ran at half the forward speed). Skipped for models whose linear weights
   * exceed TRANSPOSED_MAX values (BERT-large), where the copies would crowd the wasm heap.
   */
  private maskOptions(): ForwardOptions {
    const W = this.W();
    if (!this.transposedW) {
      const plan = this.model.plan;
      const lins: CLinear[] = plan.layers.flatMap((l) => [l.qkv, l.out, l.ffn1, l.ffn2]);
      if (plan.emb.project) lins.push(plan.emb.project);
      if (plan.head?.kind === 'classification') lins.push(...plan.head.steps.map((s) => s.lin));
      const total = lins.reduce((n, l) => n + l.inDim * l.outDim, 0);
      this.transposedW = new Map(
        total <= TRANSPOSED_MAX ? lins.map((l) => [l.wt, tf.transpose(W(l.wt)) as tf.Tensor2D]) : [],
      );
    }
    const m = this.transposedW;
    return { ...this.eval, transposed: (key) => m.get(key) };
  }

  private W(): Lookup {
    const w = this.weights;
    if (!w) throw new FmnError('the model session was disposed');
    return (key) => w.get(key)!;
  }

  /** Example ranges of at most maxChunkTokens tokens each (at least one example). */
  private chunks(batch: Batch): [number, number][] {
    const per = Math.max(1, Math.floor(this.chunkTokens / batch.seqLen));
    const out: [number, number][] = [];
    for (let s = 0; s < batch.size; s += per) out.push([s, Math.min(batch.size, s + per)]);
    return out;
  }

  private maskTensors(masks: MaskValues, perExample: boolean, start: number, end: number): MaskTensors {
    const { layers: L, heads: H, intermediate: I } = this.layout;
    if (!perExample)
      return { head: tf.tensor2d(masks.head, [L, H]), neuron: tf.tensor2d(masks.neuron, [L, I]), perExample };
    return {
      head: tf.tensor3d(masks.head.subarray(start * L * H, end * L * H), [end - start, L, H]),
      neuron: tf.tensor3d(masks.neuron.subarray(start * L * I, end * L * I), [end - start, L, I]),
      perExample,
    };
  }

  async logits(batch: Batch): Promise<Float32Array> {
    const W = this.W();
    validateBatch(this.source, batch);
    if (this.model.plan.head?.kind !== 'classification')
      throw new FmnError('the model has no classification head');
    const C = this.model.plan.head.numLabels;
    await this.rt.activate();
    const out = new Float32Array(batch.size * C);
    for (const [s, e] of this.chunks(batch)) {
      const part = tf.tidy(() => {
        const inp = makeInputs(this.model.plan, sliceExamples(batch, s, e));
        return classify(
          this.model.plan,
          W,
          encode(this.model.plan, W, inp, undefined, this.eval),
          inp,
          this.eval,
        ).dataSync();
      });
      out.set(part as Float32Array, s * C);
    }
    return out;
  }

  async loss(batch: Batch, masks?: MaskValues): Promise<number> {
    const W = this.W();
    validateBatch(this.source, batch, { labels: true });
    // per-example masks are recognised by their size (as the reference does)
    const perExample = masks ? maskConventionOf(this.layout, masks, batch.size) === 'example' : false;
    await this.rt.activate();
    let sum = 0;
    for (const [s, e] of this.chunks(batch)) {
      sum += tf.tidy(() => {
        const part = sliceExamples(batch, s, e);
        const inp = makeInputs(this.model.plan, part);
        const m = masks ? this.maskTensors(masks, perExample, s, e) : undefined;
        const logits = classify(
          this.model.plan,
          W,
          encode(this.model.plan, W, inp, m, this.eval),
          inp,
          this.eval,
        );
        return tf.sum(exampleLosses(logits, part.labels!)).dataSync()[0];
      });
    }
    return sum / batch.size;
  }

  async maskGradients(
    batch: Batch,
    options: { convention: FisherConvention; masks?: MaskValues },
  ): Promise<MaskGradients> {
    const W = this.W();
    const { convention } = options;
    checkConvention(convention);
    validateBatch(this.source, batch, { labels: true });
    const B = batch.size;
    const { layers: L, heads: H, intermediate: I } = this.layout;
    const perExample = convention === 'example';
    const masks = masksFor(this.layout, B, convention, options.masks);
    await this.rt.activate();
    const head = new Float32Array(masks.head.length);
    const neuron = new Float32Array(masks.neuron.length);
    let lossSum = 0;
    // batch: d(mean loss)/dm = sum over chunks of d(chunk loss sum / B)/dm
    const weight = perExample ? 1 : 1 / B;
    const opts = this.maskOptions();
    for (const [s, e] of this.chunks(batch)) {
      tf.tidy(() => {
        const part = sliceExamples(batch, s, e);
        const inp = makeInputs(this.model.plan, part);
        const m = this.maskTensors(masks, perExample, s, e);
        const f = (mh: tf.Tensor, mn: tf.Tensor) => {
          const hidden = encode(this.model.plan, W, inp, { head: mh, neuron: mn, perExample }, opts);
          const losses = exampleLosses(classify(this.model.plan, W, hidden, inp, opts), part.labels!);
          return tf.mul(tf.sum(losses), weight) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)([m.head, m.neuron]);
        lossSum += value.dataSync()[0] / weight;
        const gh = grads[0].dataSync() as Float32Array;
        const gn = grads[1].dataSync() as Float32Array;
        if (perExample) {
          head.set(gh, s * L * H);
          neuron.set(gn, s * L * I);
        } else {
          gh.forEach((v, i) => (head[i] += v));
          gn.forEach((v, i) => (neuron[i] += v));
        }
      });
    }
    return { loss: lossSum / B, head, neuron };
  }

  async squaredParamGradients(batch: Batch): Promise<Map<string, Float32Array>> {
    const W0 = this.W();
    validateBatch(this.source, batch, { labels: true });
    await this.rt.activate();
    const keys = [...this.model.tensors.keys()];
    const xs = keys.map((k) => W0(k));
    let acc: tf.Tensor[] = keys.map((k) => tf.zeros(this.model.tensors.get(k)!.shape));
    try {
      for (let i = 0; i < batch.size; i++) {
        const one = trimmedExample(batch, i);
        const next = tf.tidy(() => {
          const inp = makeInputs(this.model.plan, one);
          const f = (...ts: tf.Tensor[]) => {
            const byKey = new Map(keys.map((k, j) => [k, ts[j]]));
            const W: Lookup = (key) => byKey.get(key)!;
            const hidden = encode(this.model.plan, W, inp, undefined, this.withParams);
            return tf.sum(
              exampleLosses(classify(this.model.plan, W, hidden, inp, this.withParams), one.labels!),
            ) as tf.Scalar;
          };
          const grads = tf.grads(f)(xs);
          return grads.map((g, j) => tf.add(acc[j], tf.square(g)));
        });
        tf.dispose(acc);
        acc = next;
      }
      const values = new Map(keys.map((k, j) => [k, acc[j].dataSync() as Float32Array]));
      const out = new Map<string, Float32Array>();
      for (const spec of this.model.specs) {
        out.set(
          spec.param.name,
          extractParam(spec, values.get(spec.key)!, this.model.tensors.get(spec.key)!.shape),
        );
      }
      return out;
    } finally {
      tf.dispose(acc);
    }
  }

  dispose(): void {
    if (this.weights) tf.dispose([...this.weights.values()]);
    if (this.transposedW) tf.dispose([...this.transposedW.values()]);
    this.weights = undefined;
    this.transposedW = undefined;
  }
}

export class TfjsBackend implements Backend {
  readonly name: string;
  readonly runtime: string;
  readonly contractVersion = BACKEND_CONTRACT_VERSION;
  readonly capabilities: BackendCapabilities;
  constructor(
    readonly rt: Runtime,
    readonly options: TfjsOptions = {},
  ) {
    this.name = `tfjs-${rt.kind}`;
    this.runtime = rt.description;
    // wasm runs single-threaded under Node and cpu is plain JavaScript; tfjs-node's libtensorflow picks its own
    this.capabilities = {
      conventions: ['batch', 'example'],
      fullFisher: true,
      training: true,
      ...(rt.kind !== 'node' && { threads: 1 }),
    };
  }
  async load(model: EncoderModel): Promise<TfjsSession> {
    await this.rt.activate();
    return new TfjsSession(this.rt, model, this.options);
  }
}

/** A tfjs backend on one runtime; throws (saying why) when that runtime cannot start here. */
export async function createTfjsBackend(kind: RuntimeKind, options: TfjsOptions = {}): Promise<TfjsBackend> {
  return new TfjsBackend(await initRuntime(kind, options.importer), options);
}
