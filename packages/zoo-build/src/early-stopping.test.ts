import { describe, expect, it } from 'vitest';
import type { Batch, EncoderModel } from '@fmn/core';
import type { Trainer } from '@fmn/backend-tfjs';
import { DEFAULT_FINETUNE, finetune } from './train.js';
import type { MakeTrainer, ZooTrainerOptions } from './training-loop.js';

const batch: Batch = {
  size: 2,
  seqLen: 1,
  inputIds: Int32Array.of(1, 2),
  attentionMask: Int32Array.of(1, 1),
  labels: Float32Array.of(0, 1),
};

/**
 * A scripted trainer: step k's training loss is 1/k; the held-out loss after `steps` steps is
 * `heldOut[steps]`; its model is a marker naming the step it was taken at.
 */
function scripted(heldOut: Record<number, number>): { make: MakeTrainer; options: ZooTrainerOptions[] } {
  const options: ZooTrainerOptions[] = [];
  const make: MakeTrainer = async (_model, o) => {
    options.push(o);
    let steps = 0;
    const t: Trainer = {
      runtime: 'scripted',
      get steps() {
        return steps;
      },
      learningRate: () => o.lr,
      step: async () => 1 / ++steps,
      evaluate: async () => {
        const l = heldOut[steps];
        if (l === undefined) throw new Error(`no held-out loss scripted at step ${steps}`);
        return l;
      },
      gradients: async () => new Map(),
      model: () => ({ modelType: `at-${steps}` }) as unknown as EncoderModel,
      dispose: () => {},
    };
    return t;
  };
  return { make, options };
}

const settings = {
  ...DEFAULT_FINETUNE,
  lr: 1e-4,
  evalEvery: 2,
  patience: 2,
  warmupFraction: 0.1,
  dropout: 0.1,
};
const model = { modelType: 'start' } as unknown as EncoderModel;

describe('fine-tuning with early stopping', () => {
  it('keeps the checkpoint with the lowest held-out loss and stops after `patience` evaluations without improvement', async () => {
    // evaluations at steps 0, 2, 4, 6, 8: best at 4, no improvement at 6 and 8 -> stop at 8 of 20
    const { make, options } = scripted({ 0: 0.7, 2: 0.6, 4: 0.5, 6: 0.55, 8: 0.51, 10: 0.1 });
    const ft = await finetune(model, Array(20).fill(batch), settings, make, 3, [batch]);
    expect(ft.model.modelType).toBe('at-4');
    expect(ft.log).toMatchObject({ steps: 8, plannedSteps: 20, keptStep: 4, heldOutLoss: 0.5 });
    expect(ft.log.heldOutCurve).toEqual([
      [0, 0.7],
      [2, 0.6],
      [4, 0.5],
      [6, 0.55],
      [8, 0.51],
    ]);
    // the schedule spans all planned steps; warm-up 10% of them; the settings' dropout passed on
    expect(options).toEqual([
      { lr: 1e-4, warmupSteps: 2, weightDecay: 0.01, dropout: 0.1, totalSteps: 20, seed: 3 },
    ]);
  });

  it('evaluates once more at the end when the last step is not a multiple of evalEvery, and keeps the start when nothing improves', async () => {
    const { make } = scripted({ 0: 0.3, 2: 0.4, 3: 0.35 });
    const ft = await finetune(model, Array(3).fill(batch), { ...settings, patience: 5 }, make, 1, [batch]);
    expect(ft.log.heldOutCurve).toEqual([
      [0, 0.3],
      [2, 0.4],
      [3, 0.35],
    ]);
    expect(ft.model.modelType).toBe('at-0');
    expect(ft.log).toMatchObject({ steps: 3, keptStep: 0 });
  });

  it('with a score, keeps the checkpoint with the best held-out score (the earlier on a tie), whatever the loss', async () => {
    // losses fall throughout; scores peak at step 4 (tied at step 8): step 4 is kept, stop after 2 more
    const { make } = scripted({ 0: 0.9, 2: 0.8, 4: 0.7, 6: 0.6, 8: 0.5 });
    const byStep: Record<string, number> = {
      'at-0': 0.5,
      'at-2': 0.6,
      'at-4': 0.75,
      'at-6': 0.7,
      'at-8': 0.75,
    };
    const score = async (m: EncoderModel): Promise<number> => byStep[m.modelType];
    const ft = await finetune(model, Array(20).fill(batch), settings, make, 1, [batch], () => {}, score);
    expect(ft.model.modelType).toBe('at-4');
    expect(ft.log).toMatchObject({ steps: 8, keptStep: 4, heldOutLoss: 0.7, heldOutScore: 0.75 });
    expect(ft.log.heldOutScores).toEqual([
      [0, 0.5],
      [2, 0.6],
      [4, 0.75],
      [6, 0.7],
      [8, 0.75],
    ]);
  });
});
