/**
 * The zoo's training loop, shared by pre-training and fine-tuning: Adam steps through a trainer
 * (any runtime: `MakeTrainer`), held-out losses every few steps, early stopping with the best
 * checkpoint kept.
 */
import { createTrainer, type TfjsBackend } from '@fmn/backend-tfjs';
import {
  FmnError,
  type Backend,
  type Batch,
  type EncoderModel,
  type TrainBatch,
  type Trainer,
} from '@fmn/core';

export interface TrainLog {
  /** steps taken (fewer than planned when early stopping ended the run) */
  steps: number;
  /** steps of the learning-rate schedule (it decays to 0 at this step) */
  plannedSteps: number;
  seconds: number;
  firstLoss: number;
  lastLoss: number;
  /** loss on the held-out batches: [step, loss] every `every` steps and at the end */
  heldOutCurve?: [number, number][];
  /** the kept checkpoint's step and held-out loss (the best one with early stopping, else the last) */
  keptStep?: number;
  heldOutLoss?: number;
  /** with a score: [step, held-out score] at each evaluation, and the kept checkpoint's score */
  heldOutScores?: [number, number][];
  heldOutScore?: number;
}

/** The trainer options the zoo uses (a subset of @fmn/backend-tfjs's TrainerOptions). */
export interface ZooTrainerOptions {
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  totalSteps: number;
  seed: number;
  /** dropout rate during training steps (absent or 0: none) */
  dropout?: number;
}

/** Makes a trainer for a model; the one place that says which runtime trains. */
export type MakeTrainer = (model: EncoderModel, options: ZooTrainerOptions) => Promise<Trainer>;

/** Trainers on a tfjs backend. */
export const tfjsTrainers =
  (backend: TfjsBackend): MakeTrainer =>
  (model, options) =>
    createTrainer(model, { ...options, backend });

/** Trainers of any backend that trains (core's `Backend.createTrainer`, e.g. onnxruntime). */
export function backendTrainers(backend: Backend): MakeTrainer {
  const create = backend.createTrainer?.bind(backend);
  if (!create) throw new FmnError(`backend ${backend.name} cannot train (it has no createTrainer)`);
  return (model, options) => create(model, options);
}

/** Held-out evaluation during training: every `every` steps; with `patience`, early stopping. */
export interface HeldOutCheck {
  batches: readonly (TrainBatch | Batch)[];
  every: number;
  /**
   * keep the checkpoint with the lowest held-out loss and stop after this many evaluations
   * without improvement; absent: keep the last checkpoint, never stop early
   */
  patience?: number;
  /**
   * the held-out score of a checkpoint (higher is better, e.g. accuracy): when given, early
   * stopping keeps the checkpoint with the best score (ties: the earlier) instead of the lowest loss
   */
  score?: (model: EncoderModel) => Promise<number>;
}

/** Mean of the last `n` values. */
const tailMean = (xs: number[], n: number): number => {
  const t = xs.slice(-n);
  return t.reduce((a, b) => a + b, 0) / Math.max(1, t.length);
};

/** Weight of a batch's mean loss in a held-out mean: its labelled tokens (masked-LM) or examples. */
function batchWeight(b: TrainBatch | Batch): number {
  const labels = (b as TrainBatch).tokenLabels;
  if (labels) return labels.reduce((a, y) => a + (y === -100 ? 0 : 1), 0);
  return b.size;
}

async function heldOutLoss(trainer: Trainer, batches: readonly (TrainBatch | Batch)[]): Promise<number> {
  let sum = 0;
  let weight = 0;
  for (const b of batches) {
    const w = batchWeight(b);
    if (w === 0) continue;
    sum += w * (await trainer.evaluate(b));
    weight += w;
  }
  return sum / Math.max(1, weight);
}

/**
 * Adam steps over `batches` (pre-training and fine-tuning alike), reporting the mean loss of the
 * last 50 steps every `report.every` steps; with `check`, the held-out loss as well, and early
 * stopping when `check.patience` is set.
 */
export async function runTraining(
  model: EncoderModel,
  batches: readonly (TrainBatch | Batch)[],
  opts: { lr: number; warmupSteps: number; weightDecay: number; dropout?: number },
  makeTrainer: MakeTrainer,
  seed: number,
  report: { every: number; label: string; progress: (msg: string) => void },
  check?: HeldOutCheck,
): Promise<{ model: EncoderModel; log: TrainLog }> {
  const t0 = Date.now();
  const trainer = await makeTrainer(model, { ...opts, totalSteps: batches.length, seed });
  const losses: number[] = [];
  const curve: [number, number][] = [];
  const scores: [number, number][] = [];
  let best: { step: number; loss: number; score?: number; model: EncoderModel } | undefined;
  let since = 0;
  const evaluate = async (): Promise<boolean> => {
    if (!check) return false;
    const loss = await heldOutLoss(trainer, check.batches);
    curve.push([trainer.steps, loss]);
    const model = check.score ? trainer.model() : undefined;
    const score = model ? await check.score!(model) : undefined;
    if (score !== undefined) scores.push([trainer.steps, score]);
    report.progress(
      `  ${report.label} ${trainer.steps}/${batches.length} held-out loss ${loss.toFixed(4)}${score === undefined ? '' : ` score ${score.toFixed(4)}`}`,
    );
    if (check.patience === undefined) return false;
    const better = score !== undefined ? !best || score > best.score! : !best || loss < best.loss;
    if (better) {
      best = { step: trainer.steps, loss, score, model: model ?? trainer.model() };
      since = 0;
      return false;
    }
    return ++since >= check.patience;
  };
  try {
    if (check?.patience !== undefined) await evaluate(); // the start is a candidate too
    let stopped = false;
    for (const b of batches) {
      losses.push(await trainer.step(b));
      if (trainer.steps % report.every === 0)
        report.progress(
          `  ${report.label} ${trainer.steps}/${batches.length} loss ${tailMean(losses, 50).toFixed(3)}`,
        );
      if (check && trainer.steps % check.every === 0 && (await evaluate())) {
        stopped = true;
        break;
      }
    }
    if (check && !stopped && trainer.steps % check.every !== 0) await evaluate();
    const last = curve.at(-1);
    const kept = best ?? (last ? { step: last[0], loss: last[1], model: trainer.model() } : undefined);
    return {
      model: kept?.model ?? trainer.model(),
      log: {
        steps: trainer.steps,
        plannedSteps: batches.length,
        seconds: (Date.now() - t0) / 1000,
        firstLoss: tailMean(losses.slice(0, 20), 20),
        lastLoss: tailMean(losses, 20),
        ...(check ? { heldOutCurve: curve, keptStep: kept?.step, heldOutLoss: kept?.loss } : {}),
        ...(check?.score ? { heldOutScores: scores, heldOutScore: best?.score } : {}),
      },
    };
  } finally {
    await trainer.dispose();
  }
}
