/**
 * The training contract (an optional capability of a Backend): batches with token labels, the
 * trainer's options and interface, HuggingFace's linear warm-up/decay schedule, and AdamW
 * (torch.optim.AdamW semantics) on plain Float32Arrays, so every backend trains with the same
 * numbers. Classification trains the mean cross-entropy (MSE when numLabels == 1); masked-LM the
 * mean cross-entropy over the tokens whose label is not -100. Tied parameters (a masked-LM
 * decoder tied to the word embeddings) are one tensor, trained once.
 */
import type { Batch } from './backend.js';
import type { EncoderModel, Param } from './encoder.js';
import { FmnError } from './errors.js';
import { validateBatch } from './validate-batch.js';

/** Token labels that take no part in the masked-LM loss (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

/** A training batch: core's Batch plus, for masked-LM, one label per token [B*T] (-100 = ignored). */
export interface TrainBatch extends Batch {
  readonly tokenLabels?: Int32Array;
}

export interface TrainerOptions {
  /** peak learning rate */
  readonly lr: number;
  /** decoupled weight decay (AdamW) on matrices; biases and LayerNorm parameters are not decayed. Default 0. */
  readonly weightDecay?: number;
  /** linear warm-up from 0 over this many steps (default 0) */
  readonly warmupSteps?: number;
  /** the learning rate decays linearly to 0 at this step */
  readonly totalSteps: number;
  /** Adam betas, default [0.9, 0.999] */
  readonly betas?: readonly [number, number];
  /** Adam epsilon, default 1e-8 */
  readonly eps?: number;
  /** seeds the dropout masks (default 0) */
  readonly seed?: number;
  /** dropout rate during training steps (default 0: eval-mode semantics) */
  readonly dropout?: number;
}

export interface Trainer {
  /** what runs, e.g. "tfjs 4.22.0 wasm (SIMD, single-threaded)" */
  readonly runtime: string;
  /** optimizer steps taken */
  readonly steps: number;
  /** The learning rate the next step uses. */
  learningRate(): number;
  /** One AdamW step on the batch's mean loss; returns that loss (before the update). */
  step(batch: TrainBatch): Promise<number>;
  /** The mean loss without dropout and without updating. */
  evaluate(batch: TrainBatch): Promise<number>;
  /**
   * The gradient of the batch-mean loss (without dropout) w.r.t. every parameter at the current
   * weights, by HuggingFace name (encoderParams: tied tensors once, their gradients summed);
   * nothing is updated.
   */
  gradients(batch: TrainBatch): Promise<Map<string, Float32Array>>;
  /** The trained weights as an encoder description (same structure, names and tying). */
  model(): EncoderModel;
  dispose(): Promise<void> | void;
}

/** HuggingFace's get_linear_schedule_with_warmup: factor for the step with `done` steps before it. */
export function linearSchedule(done: number, warmup: number, total: number): number {
  if (done < warmup) return done / Math.max(1, warmup);
  return Math.max(0, (total - done) / Math.max(1, total - warmup));
}

/** Refuses bad trainer options with an FmnError naming the option. */
export function checkTrainerOptions(o: TrainerOptions): void {
  const bad = (msg: string) => {
    throw new FmnError(`invalid trainer options: ${msg}`);
  };
  if (!(o.lr > 0)) bad(`lr must be positive (got ${o.lr})`);
  if (!(Number.isInteger(o.totalSteps) && o.totalSteps > 0))
    bad(`totalSteps must be a positive integer (got ${o.totalSteps})`);
  const w = o.warmupSteps ?? 0;
  if (!(Number.isInteger(w) && w >= 0 && w <= o.totalSteps))
    bad(`warmupSteps must be an integer in [0, totalSteps] (got ${w})`);
  if (!((o.weightDecay ?? 0) >= 0)) bad(`weightDecay must be >= 0 (got ${o.weightDecay})`);
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) bad(`betas must lie in [0, 1) (got ${b1}, ${b2})`);
  if (!((o.eps ?? 1e-8) > 0)) bad(`eps must be positive`);
  const p = o.dropout ?? 0;
  if (!(p >= 0 && p < 1)) bad(`dropout must lie in [0, 1) (got ${p})`);
}

/**
 * Checks a training batch for the model's head: labels for classification (validateBatch), or
 * tokenLabels [B*T] for masked-LM, each -100 or a token id. Returns the head's kind.
 */
export function validateTrainBatch(model: EncoderModel, batch: TrainBatch): 'classification' | 'masked-lm' {
  const head = model.head;
  if (!head) throw new FmnError('the model has no head to train');
  const mlm = head.kind === 'masked-lm';
  validateBatch(model, batch, { labels: !mlm });
  if (!mlm) return 'classification';
  const n = batch.size * batch.seqLen;
  const labels = batch.tokenLabels;
  if (!(labels instanceof Int32Array) || labels.length !== n)
    throw new FmnError(`invalid batch: a masked-lm head needs tokenLabels [${n}]`);
  const V = model.dims.vocabSize;
  labels.forEach((y, i) => {
    if (y !== IGNORE_INDEX && !(y >= 0 && y < V))
      throw new FmnError(
        `invalid batch: token label ${y} at position ${i} is outside the vocabulary (size ${V})`,
      );
  });
  return 'masked-lm';
}

/** Weight decay applies to matrices (weights, embeddings), not to biases and LayerNorm parameters. */
export function decays(p: Param): boolean {
  return p.shape.length >= 2;
}

/** The optimizer settings of one step (t = 1 for the first). */
export interface AdamWStep {
  /** the step's learning rate (schedule applied) */
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** 0 for tensors that are not decayed */
  readonly weightDecay: number;
  readonly t: number;
}

/**
 * The settings of the step after `done` steps for a tensor that is decayed or not (learning rate
 * from linearSchedule, defaults filled in).
 */
export function adamwStep(o: TrainerOptions, done: number, decayed: boolean): AdamWStep {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  return {
    lr: o.lr * linearSchedule(done, o.warmupSteps ?? 0, o.totalSteps),
    beta1,
    beta2,
    eps: o.eps ?? 1e-8,
    weightDecay: decayed ? (o.weightDecay ?? 0) : 0,
    t: done + 1,
  };
}

/**
 * One torch.optim.AdamW step in place: p <- p (1 - lr wd), m <- b1 m + (1 - b1) g,
 * v <- b2 v + (1 - b2) g^2, p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * Each entry is computed in float64 and stored in float32.
 */
export function adamwUpdate(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamWStep,
): void {
  const n = param.length;
  if (grad.length !== n || m.length !== n || v.length !== n)
    throw new FmnError(
      `adamwUpdate: parameter (${n}), gradient (${grad.length}) and moments (${m.length}, ${v.length}) differ in size`,
    );
  const { lr, beta1: b1, beta2: b2, eps } = s;
  const c1 = 1 - b1 ** s.t;
  const c2 = 1 - b2 ** s.t;
  const keep = 1 - lr * s.weightDecay;
  const step = lr / c1;
  const inv2 = 1 / c2;
  const a1 = 1 - b1;
  const a2 = 1 - b2;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const mi = (m[i] = b1 * m[i] + a1 * g);
    const vi = (v[i] = b2 * v[i] + a2 * g * g);
    param[i] = param[i] * keep - (step * mi) / (Math.sqrt(vi * inv2) + eps);
  }
}
