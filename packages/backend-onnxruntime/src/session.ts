/**
 * The ONNX Runtime backend: core's Backend / ModelSession over onnxruntime-node, running graphs
 * built by encoder-graph.ts. Weights never enter the protobuf: every parameter is an external
 * initializer whose bytes are handed to ONNX Runtime in memory (`externalData`), so models of any
 * size load (no 2 GB protobuf limit) without copying them into one buffer.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import {
  BACKEND_CONTRACT_VERSION,
  FmnError,
  checkConvention,
  encoderParams,
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
  type TrainerOptions,
} from '@fmn/core';
import type { Graph } from '@fmn/onnx';
import {
  CLASS_PROBS,
  CLASS_WEIGHTS,
  HEAD_GRAD,
  HEAD_MASK,
  NEURON_GRAD,
  NEURON_MASK,
  classificationHead,
  externalDataOf,
  gramGraph,
  logitsGraph,
  lossGraph,
  maskGradientGraph,
  squaredGradientGraph,
} from '@fmn/onnx';
import { BatchedFullFisher } from './full-fisher.js';
import { batchChunks, chunkMasks, combineMaskGradients, concat } from './chunks.js';
import { removeTelemetryLog } from './telemetry-log.js';
import { createOrtTrainer, type TrainerRuntime } from './trainer.js';
import { labelFeed, textFeeds } from './feeds.js';

export interface OnnxRuntimeBackendOptions {
  /** execution provider: 'cpu' (default) or e.g. 'cuda' when onnxruntime's CUDA binaries are installed */
  executionProvider?: string;
  /** intra-op threads (default: the core count) */
  intraOpNumThreads?: number;
  /** let worker threads spin between ops (default false: measured slower on small shared machines) */
  allowSpinning?: boolean;
  /** ONNX Runtime graph optimisation level (default 'all') */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Most tokens (examples x sequence length) per ONNX Runtime run (default 2048): a larger batch is
   * run in chunks and the results combined exactly (a batch-mean gradient is the size-weighted mean
   * of its chunks' mean gradients), so the saved activations of a backward pass stay bounded.
   */
  maxRunTokens?: number;
  /**
   * Full diagonal Fisher: `batched` (default) squares per-example gradients of a whole chunk in one
   * pass (per-example-squared-gradient graph); `per-example` runs one example at a time through the
   * parameter-gradient graph (the earlier path, kept for comparison).
   */
  fullFisher?: 'batched' | 'per-example';
}

export const DEFAULT_MAX_RUN_TOKENS = 2048;

/**
 * Options from the environment, for users who reach the backend through the registry (the CLI's
 * `--backend onnxruntime`): FMN_ORT_EXECUTION_PROVIDER (cpu, cuda, ...), FMN_ORT_THREADS and
 * FMN_ORT_MAX_RUN_TOKENS.
 */
export function optionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): OnnxRuntimeBackendOptions {
  const options: OnnxRuntimeBackendOptions = {};
  const ep = env.FMN_ORT_EXECUTION_PROVIDER?.trim();
  if (ep) {
    if (!/^[a-z][a-z0-9_]*$/.test(ep))
      throw new FmnError(
        `FMN_ORT_EXECUTION_PROVIDER=${JSON.stringify(ep)} is not an execution provider name (e.g. cpu, cuda)`,
      );
    options.executionProvider = ep;
  }
  const tokens = env.FMN_ORT_MAX_RUN_TOKENS?.trim();
  if (tokens) {
    const n = Number(tokens);
    if (!Number.isInteger(n) || n < 1)
      throw new FmnError(`FMN_ORT_MAX_RUN_TOKENS=${JSON.stringify(tokens)} is not a positive integer`);
    options.maxRunTokens = n;
  }
  const full = env.FMN_ORT_FULL_FISHER?.trim();
  if (full) {
    if (full !== 'batched' && full !== 'per-example')
      throw new FmnError(`FMN_ORT_FULL_FISHER=${JSON.stringify(full)} is not "batched" or "per-example"`);
    options.fullFisher = full;
  }
  const threads = env.FMN_ORT_THREADS?.trim();
  if (threads) {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1)
      throw new FmnError(`FMN_ORT_THREADS=${JSON.stringify(threads)} is not a positive integer`);
    options.intraOpNumThreads = n;
  }
  return options;
}

export function sessionOptions(options: OnnxRuntimeBackendOptions): ort.InferenceSession.SessionOptions {
  const threads = options.intraOpNumThreads ?? availableParallelism();
  const spin = options.allowSpinning ? '1' : '0';
  return {
    executionProviders: [options.executionProvider ?? 'cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    // The memory pattern pre-plans one block per input shape from the first run, allocated beside
    // the arena's chunks that the first run already holds: it doubled the peak RSS of a Fisher
    // (6.7 GB for BERT-base at batch 32). The arena alone reuses its chunks from run to run.
    enableMemPattern: false,
    // session config entries: session.intra_op.allow_spinning / session.inter_op.allow_spinning
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
}

async function createSession(
  graph: Graph,
  options: OnnxRuntimeBackendOptions,
): Promise<ort.InferenceSession> {
  const { bytes, files } = externalDataOf(graph);
  const session = await ort.InferenceSession.create(bytes, {
    ...sessionOptions(options),
    externalData: files,
  });
  removeTelemetryLog();
  return session;
}

type Kind =
  | 'logits'
  | 'loss-shared'
  | 'loss-example'
  | 'grad-shared'
  | 'grad-example'
  | 'grad-model'
  | 'full-fisher'
  | 'full-fisher-model'
  | 'gram';

/** Creates an ONNX Runtime session for a graph (shared with full-fisher.ts). */
export type SessionFactory = (graph: Graph) => Promise<ort.InferenceSession>;

class OrtModelSession implements ModelSession {
  readonly layout: MaskLayout;
  private readonly sessions = new Map<Kind, Promise<ort.InferenceSession>>();
  private readonly numLabels: number;
  private disposed = false;

  constructor(
    private readonly model: EncoderModel,
    private readonly options: OnnxRuntimeBackendOptions,
  ) {
    this.layout = maskLayoutOf(model);
    this.numLabels = classificationHead(model).numLabels;
  }

  private session(kind: Kind): Promise<ort.InferenceSession> {
    if (this.disposed) throw new Error('the model session was disposed');
    let s = this.sessions.get(kind);
    if (!s) {
      s = createSession(this.graphOf(kind), this.options);
      this.sessions.set(kind, s);
      s.catch(() => this.sessions.delete(kind));
    }
    return s;
  }

  private graphOf(kind: Kind): Graph {
    switch (kind) {
      case 'logits':
        return logitsGraph(this.model);
      case 'loss-shared':
      case 'loss-example':
        return lossGraph(this.model, kind === 'loss-shared' ? 'shared' : 'example');
      case 'grad-shared':
      case 'grad-example':
        return maskGradientGraph(this.model, kind === 'grad-shared' ? 'shared' : 'example');
      case 'grad-model':
        return maskGradientGraph(this.model, 'example', 'model');
      case 'full-fisher':
      case 'full-fisher-model':
        return this.fullFisherGraph(kind === 'full-fisher' ? 'example' : 'model').graph;
      case 'gram':
        return this.gramGraph().graph;
    }
  }

  private readonly fullFisher = new Map<FullFisherConvention, ReturnType<typeof squaredGradientGraph>>();
  private fullFisherGraph(convention: FullFisherConvention): ReturnType<typeof squaredGradientGraph> {
    let f = this.fullFisher.get(convention);
    if (!f) {
      f = squaredGradientGraph(this.model, convention === 'example' ? 'loss' : 'model');
      this.fullFisher.set(convention, f);
    }
    return f;
  }

  private gram?: ReturnType<typeof gramGraph>;
  private gramGraph(): ReturnType<typeof gramGraph> {
    this.gram ??= gramGraph(this.model);
    return this.gram;
  }

  /**
   * The `model` objective's runs over a batch (METHOD.md 3): one per class c with class_weights
   * the one-hot column c (regression: one run, weight 1), each giving gradients of
   * sum_i log p(c|x_i) (or sum_i y_hat_i); `use` gets the run's outputs and each example's p(c|x_i).
   */
  private async forEachClass(
    s: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    B: number,
    use: (c: number, out: ort.InferenceSession.ReturnType, p: Float32Array) => void,
  ): Promise<void> {
    const C = this.numLabels;
    let probs: Float32Array | undefined;
    for (let c = 0; c < C; c++) {
      const w = new Float32Array(B * C);
      for (let i = 0; i < B; i++) w[i * C + c] = 1;
      const out = await s.run({ ...feeds, [CLASS_WEIGHTS]: new ort.Tensor('float32', w, [B, C]) });
      probs ??= C === 1 ? new Float32Array(B).fill(1) : (out[CLASS_PROBS].data as Float32Array);
      use(
        c,
        out,
        Float32Array.from({ length: B }, (_, i) => probs![i * C + c]),
      );
    }
  }

  private batchedFisher?: BatchedFullFisher;

  /**
   * Full diagonal Fisher contribution of a batch: the squared per-example gradients summed over the
   * batch's examples, in chunks of maxRunTokens tokens (full-fisher.ts); with the `per-example`
   * option, and for the `model` convention (per example and class, weighted by p(c|x)), one example
   * at a time through the parameter-gradient graph.
   */
  async squaredParamGradients(
    batch: Batch,
    options?: { convention?: FullFisherConvention },
  ): Promise<Map<string, Float32Array>> {
    const convention = fullFisherConventionOf(options);
    validateBatch(this.model, batch, { labels: convention === 'example' });
    if (convention === 'example' && this.options.fullFisher !== 'per-example') {
      if (this.disposed) throw new Error('the model session was disposed');
      this.batchedFisher ??= new BatchedFullFisher(this.model, (g) => createSession(g, this.options));
      return this.batchedFisher.run(
        batchChunks(batch, this.maxRunTokens).map((c) => c.batch),
        (b) => ({ ...this.textFeeds(b), labels: this.labelFeed(b) }),
      );
    }
    const s = await this.session(convention === 'example' ? 'full-fisher' : 'full-fisher-model');
    const { outputs } = this.fullFisherGraph(convention);
    const params = encoderParams(this.model);
    const sums = params.map((p) => new Float32Array(p.data.length));
    const T = batch.seqLen;
    for (let i = 0; i < batch.size; i++) {
      const one: Batch = {
        size: 1,
        seqLen: T,
        inputIds: batch.inputIds.subarray(i * T, i * T + T),
        attentionMask: batch.attentionMask.subarray(i * T, i * T + T),
        tokenTypeIds: batch.tokenTypeIds?.subarray(i * T, i * T + T),
        labels: batch.labels?.subarray(i, i + 1),
      };
      const add = (out: ort.InferenceSession.ReturnType, weight: number) =>
        outputs.forEach((name, k) => {
          if (!name) return;
          const sq = out[name].data as Float32Array;
          const acc = sums[k];
          for (let j = 0; j < acc.length; j++) acc[j] += weight * sq[j];
        });
      if (convention === 'example')
        add(await s.run({ ...this.textFeeds(one), labels: this.labelFeed(one) }), 1);
      else await this.forEachClass(s, this.textFeeds(one), 1, (_c, out, p) => add(out, p[0]));
    }
    return new Map(params.map((p, k) => [p.name, sums[k]]));
  }

  private textFeeds(batch: Batch): Record<string, ort.Tensor> {
    return textFeeds(this.model, batch);
  }

  private labelFeed(batch: Batch): ort.Tensor {
    return labelFeed(this.numLabels, batch);
  }

  /** Mask feeds: head_mask [L,H] / neuron_mask [L,I] (shared) or [B,L,H] / [B,L,I] (example); ones by default. */
  private maskFeeds(
    masks: MaskValues | undefined,
    mode: 'shared' | 'example',
    B: number,
  ): Record<string, ort.Tensor> {
    const { layers: L, heads: H, intermediate: I } = this.layout;
    const { head, neuron } = masksFor(this.layout, B, mode === 'example' ? 'example' : 'batch', masks);
    const lead = mode === 'example' ? [B] : [];
    return {
      [HEAD_MASK]: new ort.Tensor('float32', head, [...lead, L, H]),
      [NEURON_MASK]: new ort.Tensor('float32', neuron, [...lead, L, I]),
    };
  }

  private get maxRunTokens(): number {
    return this.options.maxRunTokens ?? DEFAULT_MAX_RUN_TOKENS;
  }

  private get maskSizes(): { head: number; neuron: number } {
    const { layers: L, heads: H, intermediate: I } = this.layout;
    return { head: L * H, neuron: L * I };
  }

  async logits(batch: Batch): Promise<Float32Array> {
    validateBatch(this.model, batch);
    const s = await this.session('logits');
    const parts: Float32Array[] = [];
    for (const { batch: b } of batchChunks(batch, this.maxRunTokens)) {
      const out = await s.run(this.textFeeds(b));
      parts.push(Float32Array.from(out.logits.data as Float32Array));
    }
    return parts.length === 1 ? parts[0] : concat(parts);
  }

  async loss(batch: Batch, masks?: MaskValues): Promise<number> {
    validateBatch(this.model, batch, { labels: true });
    // per-example masks are recognised by their size (as the reference does)
    const mode =
      masks && maskConventionOf(this.layout, masks, batch.size) === 'example' ? 'example' : 'shared';
    const s = await this.session(mode === 'shared' ? 'loss-shared' : 'loss-example');
    let sum = 0;
    for (const chunk of batchChunks(batch, this.maxRunTokens)) {
      const b = chunk.batch;
      const out = await s.run({
        ...this.textFeeds(b),
        labels: this.labelFeed(b),
        ...this.maskFeeds(chunkMasks(masks, mode === 'example', chunk, this.maskSizes), mode, b.size),
      });
      sum += mean(out.losses.data as Float32Array) * b.size;
    }
    return sum / batch.size;
  }

  async maskGradients(
    batch: Batch,
    options: { convention: FisherConvention; masks?: MaskValues },
  ): Promise<MaskGradients> {
    checkConvention(options.convention);
    if (options.convention === 'model') return this.modelMaskGradients(batch, options.masks);
    validateBatch(this.model, batch, { labels: true });
    const mode = options.convention === 'example' ? 'example' : 'shared';
    // masks of the wrong size are refused for the whole batch, before it is cut into chunks
    masksFor(this.layout, batch.size, options.convention, options.masks);
    const s = await this.session(mode === 'shared' ? 'grad-shared' : 'grad-example');
    const parts: { size: number; grads: MaskGradients }[] = [];
    // chunks bound the saved activations; the batch-mean gradient is recombined exactly
    for (const chunk of batchChunks(batch, this.maxRunTokens)) {
      const b = chunk.batch;
      const out = await s.run({
        ...this.textFeeds(b),
        labels: this.labelFeed(b),
        ...this.maskFeeds(chunkMasks(options.masks, mode === 'example', chunk, this.maskSizes), mode, b.size),
      });
      const head = Float32Array.from(out[HEAD_GRAD].data as Float32Array);
      const neuron = Float32Array.from(out[NEURON_GRAD].data as Float32Array);
      parts.push({ size: b.size, grads: { loss: mean(out.losses.data as Float32Array), head, neuron } });
    }
    return combineMaskGradients(parts, mode === 'shared' ? 'mean' : 'concat');
  }

  /** `model` convention: rows c*B + i of d log p(c|x_i)/dm_i (regression: d y_hat_i/dm_i), weights p(c|x_i). */
  private async modelMaskGradients(batch: Batch, masks: MaskValues | undefined): Promise<MaskGradients> {
    validateBatch(this.model, batch);
    const B = batch.size;
    const C = this.numLabels;
    const feeds = { ...this.textFeeds(batch), ...this.maskFeeds(masks, 'example', B) };
    const { layers: L, heads: H, intermediate: I } = this.layout;
    const head = new Float32Array(C * B * L * H);
    const neuron = new Float32Array(C * B * L * I);
    const weights = new Float32Array(C * B);
    await this.forEachClass(await this.session('grad-model'), feeds, B, (c, out, p) => {
      head.set(out[HEAD_GRAD].data as Float32Array, c * B * L * H);
      neuron.set(out[NEURON_GRAD].data as Float32Array, c * B * L * I);
      weights.set(p, c * B);
    });
    return { loss: NaN, head, neuron, weights };
  }

  /** Gram matrices of every gramTargets Linear's input (METHOD.md 5.4), by weight name. */
  async linearInputGrams(batch: Batch): Promise<Map<string, Float32Array>> {
    validateBatch(this.model, batch);
    const s = await this.session('gram');
    const out = await s.run(this.textFeeds(batch));
    const byOutput = new Map<string, Float32Array>();
    const grams = new Map<string, Float32Array>();
    for (const [name, o] of this.gramGraph().outputs) {
      let g = byOutput.get(o);
      if (!g) byOutput.set(o, (g = Float32Array.from(out[o].data as Float32Array)));
      grams.set(name, g);
    }
    return grams;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s.catch(() => undefined))?.release();
    await this.batchedFisher?.dispose();
  }
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

export class OnnxRuntimeBackend implements Backend {
  readonly name = 'onnxruntime';
  readonly runtime: string;
  readonly contractVersion = BACKEND_CONTRACT_VERSION;
  readonly capabilities: BackendCapabilities;
  constructor(private readonly options: OnnxRuntimeBackendOptions = {}) {
    const threads = options.intraOpNumThreads ?? availableParallelism();
    this.runtime = `onnxruntime-node ${ort.env.versions.common} ${options.executionProvider ?? 'cpu'} (${threads} threads)`;
    this.capabilities = {
      conventions: ['batch', 'example', 'model'],
      fullFisher: true,
      fullFisherConventions: ['example', 'model'],
      gram: true,
      training: true,
      threads,
    };
  }
  async load(model: EncoderModel): Promise<ModelSession> {
    classificationHead(model);
    return new OrtModelSession(model, this.options);
  }
  /** AdamW training without dropout (trainer.ts): one ONNX Runtime session per trainer. */
  async createTrainer(model: EncoderModel, options: TrainerOptions): Promise<Trainer> {
    const rt: TrainerRuntime = {
      runtime: this.runtime,
      createSession: (graph) => createSession(graph, this.options),
      tensor: (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) =>
        new ort.Tensor(type, data, dims),
      textFeeds,
      labelFeed,
    } as TrainerRuntime;
    return createOrtTrainer(rt, model, options);
  }
}

/** Creates the backend; fails (saying why) when the native binding cannot load. */
export async function createOnnxRuntimeBackend(options: OnnxRuntimeBackendOptions = {}): Promise<Backend> {
  if (!ort.InferenceSession) throw new Error('onnxruntime-node did not load');
  return new OnnxRuntimeBackend(options);
}
