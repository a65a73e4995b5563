/**
 * Training on ONNX Runtime: the training graph of @fmn/onnx (parameters as inputs; outputs the
 * batch-mean loss and every parameter's gradient) run by one session per trainer, and core's
 * AdamW on the host's Float32Arrays. Dropout is not implemented: a trainer asked for it is refused.
 */
import type * as ort from 'onnxruntime-node';
import {
  FmnError,
  IGNORE_INDEX,
  adamwStep,
  adamwUpdate,
  checkTrainerOptions,
  decays,
  encoderParams,
  mapModelParams,
  validateTrainBatch,
  type EncoderModel,
  type Param,
  type TrainBatch,
  type Trainer,
  type TrainerOptions,
} from '@fmn/core';
import {
  MLM_LABELS,
  MLM_POSITIONS,
  TRAIN_LOSS,
  trainingGraph,
  type Graph,
  type TrainingGraph,
} from '@fmn/onnx';

/** What the trainer needs of the backend: sessions, and the text and label feeds of a batch. */
export interface TrainerRuntime {
  readonly runtime: string;
  createSession(graph: Graph): Promise<ort.InferenceSession>;
  tensor(type: 'float32', data: Float32Array, dims: readonly number[]): ort.Tensor;
  tensor(type: 'int64', data: BigInt64Array, dims: readonly number[]): ort.Tensor;
  textFeeds(model: EncoderModel, batch: TrainBatch): Record<string, ort.Tensor>;
  labelFeed(numLabels: number, batch: TrainBatch): ort.Tensor;
}

const copy = (m: EncoderModel) => mapModelParams(m, (p) => Float32Array.from(p.data));

interface Built {
  graph: TrainingGraph;
  session: Promise<ort.InferenceSession>;
}

class OrtTrainer implements Trainer {
  readonly runtime: string;
  steps = 0;
  private readonly params: Param[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly trained: EncoderModel;
  private grad?: Built;
  private loss?: Built;
  private disposed = false;

  constructor(
    private readonly rt: TrainerRuntime,
    source: EncoderModel,
    private readonly o: TrainerOptions,
  ) {
    this.runtime = rt.runtime;
    // the trainer's own copy of the weights (same structure and tying), updated in place
    this.trained = copy(source);
    this.params = encoderParams(this.trained);
    this.m = this.params.map((p) => new Float32Array(p.data.length));
    this.v = this.params.map((p) => new Float32Array(p.data.length));
  }

  learningRate(): number {
    return adamwStep(this.o, this.steps, false).lr;
  }

  private live(): void {
    if (this.disposed) throw new FmnError('the trainer was disposed');
  }

  private built(withGradients: boolean): Built {
    const which = withGradients ? this.grad : this.loss;
    if (which) return which;
    const graph = trainingGraph(this.trained, { gradients: withGradients });
    const b: Built = { graph, session: this.rt.createSession(graph.graph) };
    if (withGradients) this.grad = b;
    else this.loss = b;
    return b;
  }

  /**
   * Runs the batch; undefined when a masked-LM batch selects no token (its loss is then 0 and
   * every gradient 0, as the tfjs trainer's).
   */
  private async run(
    batch: TrainBatch,
    withGradients: boolean,
  ): Promise<{ loss: number; out: ort.InferenceSession.ReturnType; built: Built } | undefined> {
    this.live();
    const kind = validateTrainBatch(this.trained, batch);
    const feeds: Record<string, ort.Tensor> = this.rt.textFeeds(this.trained, batch);
    if (kind === 'masked-lm') {
      const positions: bigint[] = [];
      const labels: bigint[] = [];
      batch.tokenLabels!.forEach((y, i) => {
        if (y === IGNORE_INDEX) return;
        positions.push(BigInt(i));
        labels.push(BigInt(y));
      });
      if (positions.length === 0) return undefined;
      feeds[MLM_POSITIONS] = this.rt.tensor('int64', BigInt64Array.from(positions), [positions.length]);
      feeds[MLM_LABELS] = this.rt.tensor('int64', BigInt64Array.from(labels), [labels.length]);
    } else {
      const head = this.trained.head as { numLabels: number };
      feeds.labels = this.rt.labelFeed(head.numLabels, batch);
    }
    const built = this.built(withGradients);
    for (const [k, p] of this.params.entries())
      feeds[built.graph.params[k].input] = this.rt.tensor('float32', p.data, p.shape);
    const session = await built.session;
    this.live();
    const out = await session.run(feeds);
    return { loss: (out[TRAIN_LOSS].data as Float32Array)[0], out, built };
  }

  private gradientsOf(r: Awaited<ReturnType<OrtTrainer['run']>>): Float32Array[] {
    return this.params.map((p, k) => {
      const name = r?.built.graph.params[k].grad;
      return name ? (r!.out[name].data as Float32Array) : new Float32Array(p.data.length);
    });
  }

  async evaluate(batch: TrainBatch): Promise<number> {
    return (await this.run(batch, false))?.loss ?? 0;
  }

  async gradients(batch: TrainBatch): Promise<Map<string, Float32Array>> {
    const r = await this.run(batch, true);
    const grads = this.gradientsOf(r);
    return new Map(this.params.map((p, k) => [p.name, Float32Array.from(grads[k])]));
  }

  async step(batch: TrainBatch): Promise<number> {
    const r = await this.run(batch, true);
    const grads = this.gradientsOf(r);
    this.params.forEach((p, k) =>
      adamwUpdate(p.data, grads[k], this.m[k], this.v[k], adamwStep(this.o, this.steps, decays(p))),
    );
    this.steps++;
    return r?.loss ?? 0;
  }

  model(): EncoderModel {
    this.live();
    return copy(this.trained);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [this.grad, this.loss]) await (await b?.session.catch(() => undefined))?.release();
  }
}

/** A trainer on ONNX Runtime for the model (its weights are copied; the model object is not changed). */
export function createOrtTrainer(rt: TrainerRuntime, model: EncoderModel, options: TrainerOptions): Trainer {
  checkTrainerOptions(options);
  if ((options.dropout ?? 0) > 0)
    throw new FmnError(
      `the onnxruntime backend trains without dropout (got dropout ${options.dropout}); use dropout 0 or a tfjs backend`,
    );
  if (!model.head) throw new FmnError('the model has no head to train');
  return new OrtTrainer(rt, model, options);
}
