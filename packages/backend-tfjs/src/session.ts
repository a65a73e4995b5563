/** The tfjs Backend and ModelSession (METHOD.md sections 1-4). */
import {
  BACKEND_CONTRACT_VERSION,
  FmnError,
  checkConvention,
  fullFisherConventionOf,
  maskConventionOf,
  maskLayoutOf,
  masksFor,
  validateBatch,
  type Backend,
  type BackendCapabilities,
  type Batch,
  type EncoderModel,
  type FisherConvention,
  type FullFisherConvention,
  type MaskGradients,
  type MaskLayout,
  type MaskValues,
  type ModelSession,
  type Trainer,
  type TrainerOptions as CoreTrainerOptions,
} from '@fmn/core';
import {
  classObjective,
  classWeights,
  classify,
  encode,
  exampleLosses,
  makeInputs,
  type AttentionMode,
  type ForwardOptions,
  type Lookup,
  type MaskTensors,
} from './forward.js';
import { gramTap, gramTaps } from './grams.js';
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
    validateBatch(this.source, batch, { labels: convention !== 'model' });
    const B = batch.size;
    const { layers: L, heads: H, intermediate: I } = this.layout;
    const perExample = convention === 'example';
    const masks = masksFor(this.layout, B, convention, options.masks);
    await this.rt.activate();
    if (convention === 'model') return this.modelMaskGradients(batch, masks);
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

  private numLabels(): number {
    const head = this.model.plan.head;
    if (head?.kind !== 'classification') throw new FmnError('the model has no classification head');
    return head.numLabels;
  }

  /**
   * `model` convention (METHOD.md 3): per chunk, the class probabilities from one forward pass,
   * then per class one backward pass of sum_i log p(c|x_i) (regression: sum_i y_hat_i) w.r.t. the
   * per-example masks, whose slice i is d log p(c|x_i)/dm_i; rows c*B + i, weighted by p(c|x_i).
   */
  private modelMaskGradients(batch: Batch, masks: MaskValues): MaskGradients {
    const W = this.W();
    const plan = this.model.plan;
    const B = batch.size;
    const C = this.numLabels();
    const { layers: L, heads: H, intermediate: I } = this.layout;
    const head = new Float32Array(C * B * L * H);
    const neuron = new Float32Array(C * B * L * I);
    const weights = new Float32Array(C * B);
    const opts = this.maskOptions();
    for (const [s, e] of this.chunks(batch)) {
      tf.tidy(() => {
        const inp = makeInputs(plan, sliceExamples(batch, s, e));
        const m = this.maskTensors(masks, true, s, e);
        const logitsAt = (mh: tf.Tensor, mn: tf.Tensor) =>
          classify(
            plan,
            W,
            encode(plan, W, inp, { head: mh, neuron: mn, perExample: true }, opts),
            inp,
            opts,
          );
        const p = classWeights(logitsAt(m.head, m.neuron)).dataSync();
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < e - s; i++) weights[c * B + s + i] = p[i * C + c];
          tf.tidy(() => {
            const grads = tf.grads((mh: tf.Tensor, mn: tf.Tensor) => classObjective(logitsAt(mh, mn), c))([
              m.head,
              m.neuron,
            ]);
            head.set(grads[0].dataSync() as Float32Array, (c * B + s) * L * H);
            neuron.set(grads[1].dataSync() as Float32Array, (c * B + s) * L * I);
          });
        }
      });
    }
    return { loss: NaN, head, neuron, weights };
  }

  /** The class probabilities of one example (ones for regression's single output). */
  private classProbabilities(one: Batch): number[] {
    const W = this.W();
    const plan = this.model.plan;
    return Array.from(
      tf.tidy(() => {
        const inp = makeInputs(plan, one);
        return classWeights(
          classify(plan, W, encode(plan, W, inp, undefined, this.eval), inp, this.eval),
        ).dataSync();
      }),
    );
  }

  async squaredParamGradients(
    batch: Batch,
    options?: { convention?: FullFisherConvention },
  ): Promise<Map<string, Float32Array>> {
    const W0 = this.W();
    const convention = fullFisherConventionOf(options);
    validateBatch(this.source, batch, { labels: convention === 'example' });
    await this.rt.activate();
    const keys = [...this.model.tensors.keys()];
    const xs = keys.map((k) => W0(k));
    let acc: tf.Tensor[] = keys.map((k) => tf.zeros(this.model.tensors.get(k)!.shape));
    try {
      for (let i = 0; i < batch.size; i++) {
        const one = trimmedExample(batch, i);
        // example: the loss against the label; model: per class, log p(c|x) weighted by p(c|x)
        const terms: [number, (logits: tf.Tensor2D) => tf.Scalar][] =
          convention === 'example'
            ? [[1, (z) => tf.sum(exampleLosses(z, one.labels!)) as tf.Scalar]]
            : this.classProbabilities(one).map((p, c) => [p, (z) => classObjective(z, c)]);
        for (const [weight, objective] of terms) {
          const next = tf.tidy(() => {
            const inp = makeInputs(this.model.plan, one);
            const f = (...ts: tf.Tensor[]) => {
              const byKey = new Map(keys.map((k, j) => [k, ts[j]]));
              const W: Lookup = (key) => byKey.get(key)!;
              const hidden = encode(this.model.plan, W, inp, undefined, this.withParams);
              return objective(classify(this.model.plan, W, hidden, inp, this.withParams));
            };
            const grads = tf.grads(f)(xs);
            return grads.map((g, j) =>
              tf.add(acc[j], weight === 1 ? tf.square(g) : tf.mul(tf.square(g), weight)),
            );
          });
          tf.dispose(acc);
          acc = next;
        }
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

  /** Gram matrices of every gramTargets Linear's input (METHOD.md 5.4), by weight name. */
  async linearInputGrams(batch: Batch): Promise<Map<string, Float32Array>> {
    const W = this.W();
    validateBatch(this.source, batch);
    this.numLabels();
    const plan = this.model.plan;
    const taps = gramTaps(this.source, plan);
    const sums = new Map<CLinear, Float32Array>();
    await this.rt.activate();
    for (const [s, e] of this.chunks(batch)) {
      tf.tidy(() => {
        const part = sliceExamples(batch, s, e);
        const rowMask = tf.tensor2d(Float32Array.from(part.attentionMask), [part.size * part.seqLen, 1]);
        const opts = { ...this.eval, tap: gramTap(taps, sums, rowMask) };
        const inp = makeInputs(plan, part);
        classify(plan, W, encode(plan, W, inp, undefined, opts), inp, opts);
      });
    }
    const out = new Map<string, Float32Array>();
    for (const [lin, tap] of taps) for (const name of tap.names) out.set(name, sums.get(lin)!);
    return out;
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
      conventions: ['batch', 'example', 'model'],
      fullFisher: true,
      fullFisherConventions: ['example', 'model'],
      gram: true,
      training: true,
      ...(rt.kind !== 'node' && { threads: 1 }),
    };
  }
  async load(model: EncoderModel): Promise<TfjsSession> {
    await this.rt.activate();
    return new TfjsSession(this.rt, model, this.options);
  }
  /** AdamW training with optional dropout on this runtime (trainer.ts). */
  async createTrainer(model: EncoderModel, options: CoreTrainerOptions): Promise<Trainer> {
    // imported when first used: trainer.ts imports this module
    const { createTrainer } = await import('./trainer.js');
    return createTrainer(model, { ...options, backend: this });
  }
}

/** A tfjs backend on one runtime; throws (saying why) when that runtime cannot start here. */
export async function createTfjsBackend(kind: RuntimeKind, options: TfjsOptions = {}): Promise<TfjsBackend> {
  return new TfjsBackend(await initRuntime(kind, options.importer), options);
}
