/**
 * Training for the offline testbed: AdamW over every parameter with HuggingFace's linear
 * warm-up/decay schedule, for a classification head (batch labels) or a masked-LM head
 * (token-level labels, -100 ignored). Tied parameters are one tensor, trained once.
 */
import { FmnError, type Batch, type EncoderModel, resolveBackend, validateBatch } from '@fmn/core';
import {
  classify,
  encode,
  exampleLosses,
  makeInputs,
  mlmLossSum,
  type ForwardOptions,
  type Lookup,
} from './forward.js';
import { buildLayout, extractParam, mapModelParams, type Layout } from './params.js';
import { tf } from './runtime.js';
import { TfjsBackend, uploadLayout } from './session.js';

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
  /** the tfjs backend to train on (default: the resolver's best "tfjs" runtime) */
  readonly backend?: TfjsBackend;
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
  /** The trained weights as an encoder description (same structure, names and tying). */
  model(): EncoderModel;
  dispose(): void;
}

/** HuggingFace's get_linear_schedule_with_warmup: factor for the step with `done` steps before it. */
export function linearSchedule(done: number, warmup: number, total: number): number {
  if (done < warmup) return done / Math.max(1, warmup);
  return Math.max(0, (total - done) / Math.max(1, total - warmup));
}

function checkOptions(o: TrainerOptions): void {
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

class TfjsTrainer implements Trainer {
  readonly runtime: string;
  steps = 0;
  private readonly vars: Map<string, tf.Variable>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly keys: string[];
  private seed: number;
  private disposed = false;

  constructor(
    private readonly backend: TfjsBackend,
    private readonly source: EncoderModel,
    private readonly layout: Layout,
    private readonly o: TrainerOptions,
  ) {
    this.runtime = backend.runtime;
    this.vars = uploadLayout(layout, true) as Map<string, tf.Variable>;
    this.keys = [...this.vars.keys()];
    for (const k of this.keys) {
      // a variable holds its own reference to the initial value: the zeros tensor is released here
      const zeros = tf.zeros(layout.tensors.get(k)!.shape);
      this.m.set(k, tf.variable(zeros, false));
      this.v.set(k, tf.variable(zeros, false));
      zeros.dispose();
    }
    this.seed = o.seed ?? 0;
  }

  learningRate(): number {
    return this.o.lr * linearSchedule(this.steps, this.o.warmupSteps ?? 0, this.o.totalSteps);
  }

  private live(): void {
    if (this.disposed) throw new FmnError('the trainer was disposed');
  }

  /** The batch-mean loss as a function of the parameter tensors (in `keys` order). */
  private lossFn(batch: TrainBatch, opts: ForwardOptions): (...ts: tf.Tensor[]) => tf.Scalar {
    const plan = this.layout.plan;
    const mlm = plan.head?.kind === 'masked-lm';
    validateBatch(this.source, batch, { labels: !mlm });
    if (mlm && (!batch.tokenLabels || batch.tokenLabels.length !== batch.size * batch.seqLen)) {
      throw new FmnError(`invalid batch: a masked-lm head needs tokenLabels [${batch.size * batch.seqLen}]`);
    }
    if (!plan.head) throw new FmnError('the model has no head to train');
    return (...ts: tf.Tensor[]) => {
      const byKey = new Map(this.keys.map((k, i) => [k, ts[i]]));
      const W: Lookup = (key) => byKey.get(key)!;
      const inp = makeInputs(plan, batch);
      const hidden = encode(plan, W, inp, undefined, opts);
      if (mlm) {
        const { sum, count } = mlmLossSum(plan, W, hidden, batch.tokenLabels!, opts);
        return tf.div(sum, Math.max(1, count)) as tf.Scalar;
      }
      return tf.mean(exampleLosses(classify(plan, W, hidden, inp, opts), batch.labels!)) as tf.Scalar;
    };
  }

  async evaluate(batch: TrainBatch): Promise<number> {
    this.live();
    const f = this.lossFn(batch, { paramGrads: false, attention: this.backend.options.attention });
    await this.backend.rt.activate();
    return tf.tidy(() => f(...this.keys.map((k) => this.vars.get(k)!)).dataSync()[0]);
  }

  async step(batch: TrainBatch): Promise<number> {
    this.live();
    const rate = this.o.dropout ?? 0;
    const opts: ForwardOptions = {
      paramGrads: true,
      attention: this.backend.options.attention,
      dropout:
        rate > 0
          ? { rate, nextSeed: () => (this.seed = (Math.imul(this.seed, 1664525) + 1013904223) >>> 0) }
          : undefined,
    };
    const f = this.lossFn(batch, opts);
    await this.backend.rt.activate();
    const lr = this.learningRate();
    const [b1, b2] = this.o.betas ?? [0.9, 0.999];
    const eps = this.o.eps ?? 1e-8;
    const wd = this.o.weightDecay ?? 0;
    const t = this.steps + 1;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const loss = tf.tidy(() => {
      const xs = this.keys.map((k) => this.vars.get(k)!);
      const { value, grads } = tf.valueAndGrads(f)(xs);
      this.keys.forEach((k, i) => {
        const g = grads[i];
        const p = this.vars.get(k)!;
        const m = this.m.get(k)!;
        const v = this.v.get(k)!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        // torch.optim.AdamW: decay first, then the Adam step with bias-corrected moments
        const decayed = wd > 0 && this.layout.tensors.get(k)!.decay ? tf.mul(p, 1 - lr * wd) : p;
        const upd = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        p.assign(tf.sub(decayed, tf.mul(upd, lr)));
      });
      return value.dataSync()[0];
    });
    this.steps++;
    return loss;
  }

  model(): EncoderModel {
    this.live();
    const values = new Map<string, Float32Array>();
    for (const k of this.keys) values.set(k, this.vars.get(k)!.dataSync() as Float32Array);
    const byParam = new Map(this.layout.specs.map((s) => [s.param, s]));
    return mapModelParams(this.source, (p) => {
      const s = byParam.get(p)!;
      return extractParam(s, values.get(s.key)!, this.layout.tensors.get(s.key)!.shape);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.vars.values(), ...this.m.values(), ...this.v.values()]);
  }
}

/** A trainer for the model (its weights are copied; the model object is not changed). */
export async function createTrainer(model: EncoderModel, options: TrainerOptions): Promise<Trainer> {
  checkOptions(options);
  let backend = options.backend;
  if (!backend) {
    const resolved = (await resolveBackend('tfjs')).backend;
    if (!(resolved instanceof TfjsBackend))
      throw new FmnError(`backend ${resolved.name} is not a tfjs backend`);
    backend = resolved;
  }
  await backend.rt.activate();
  return new TfjsTrainer(backend, model, buildLayout(model), options);
}
