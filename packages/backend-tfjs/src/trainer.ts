/**
 * Training on tfjs (core's Trainer, training.ts): AdamW over every parameter with HuggingFace's
 * linear warm-up/decay schedule, for a classification head (batch labels) or a masked-LM head
 * (token-level labels, -100 ignored), with optional dropout. Tied parameters are one tensor,
 * trained once. The update is core's adamwUpdate written in tensor ops (same formula, float32).
 */
import {
  FmnError,
  adamwStep,
  checkTrainerOptions,
  mapModelParams,
  resolveBackend,
  validateTrainBatch,
  type EncoderModel,
  type TrainBatch,
  type Trainer,
  type TrainerOptions as CoreTrainerOptions,
} from '@fmn/core';
import {
  classify,
  encode,
  exampleLosses,
  makeInputs,
  mlmLossSum,
  type ForwardOptions,
  type Lookup,
} from './forward.js';
import { buildLayout, extractParam, type Layout } from './params.js';
import { tf } from './runtime.js';
import { TfjsBackend, uploadLayout } from './session.js';

/** core's trainer options, plus the tfjs backend to train on (default: the resolver's best "tfjs" runtime). */
export interface TrainerOptions extends CoreTrainerOptions {
  readonly backend?: TfjsBackend;
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
    return adamwStep(this.o, this.steps, false).lr;
  }

  private live(): void {
    if (this.disposed) throw new FmnError('the trainer was disposed');
  }

  /** The batch-mean loss as a function of the parameter tensors (in `keys` order). */
  private lossFn(batch: TrainBatch, opts: ForwardOptions): (...ts: tf.Tensor[]) => tf.Scalar {
    const plan = this.layout.plan;
    const mlm = validateTrainBatch(this.source, batch) === 'masked-lm';
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
    const { lr, beta1: b1, beta2: b2, eps, t } = adamwStep(this.o, this.steps, true);
    const wd = this.o.weightDecay ?? 0;
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

  async gradients(batch: TrainBatch): Promise<Map<string, Float32Array>> {
    this.live();
    const f = this.lossFn(batch, { paramGrads: true, attention: this.backend.options.attention });
    await this.backend.rt.activate();
    const values = new Map<string, Float32Array>();
    tf.tidy(() => {
      const { grads } = tf.valueAndGrads(f)(this.keys.map((k) => this.vars.get(k)!));
      this.keys.forEach((k, i) => values.set(k, grads[i].dataSync() as Float32Array));
    });
    const out = new Map<string, Float32Array>();
    for (const s of this.layout.specs)
      out.set(s.param.name, extractParam(s, values.get(s.key)!, this.layout.tensors.get(s.key)!.shape));
    return out;
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
  checkTrainerOptions(options);
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
