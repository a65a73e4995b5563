import { describe, expect, it } from 'vitest';
import { isFmnError } from './errors.js';
import {
  adamwStep,
  adamwUpdate,
  checkTrainerOptions,
  decays,
  linearSchedule,
  type TrainerOptions,
} from './training.js';

describe('linearSchedule (HuggingFace get_linear_schedule_with_warmup)', () => {
  it('matches hand-computed factors', () => {
    expect([0, 1, 2, 3, 6, 10, 11].map((s) => linearSchedule(s, 2, 10))).toEqual([
      0,
      0.5,
      1,
      7 / 8,
      0.5,
      0,
      0,
    ]);
    expect([0, 5, 10].map((s) => linearSchedule(s, 0, 10))).toEqual([1, 0.5, 0]);
  });
});

describe('adamwUpdate (torch.optim.AdamW)', () => {
  it('two steps of a hand-computed case, with and without decay', () => {
    // lr 0.1, betas (0.5, 0.75), eps 0.01, wd 0.2; p = 1, gradients 2 then -1
    const p = Float32Array.of(1, 1);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    const base = { lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 0.01 };
    // step 1: m = 1, v = 1, m_hat = 1 / 0.5 = 2, v_hat = 1 / 0.25 = 4, update 0.1 * 2 / (2 + 0.01)
    adamwUpdate(p.subarray(0, 1), Float32Array.of(2), m.subarray(0, 1), v.subarray(0, 1), {
      ...base,
      weightDecay: 0.2,
      t: 1,
    });
    adamwUpdate(p.subarray(1), Float32Array.of(2), m.subarray(1), v.subarray(1), {
      ...base,
      weightDecay: 0,
      t: 1,
    });
    const u1 = (0.1 * 2) / 2.01;
    expect(p[0]).toBeCloseTo(1 * (1 - 0.02) - u1, 6);
    expect(p[1]).toBeCloseTo(1 - u1, 6);
    expect(Array.from(m)).toEqual([1, 1]);
    expect(Array.from(v)).toEqual([1, 1]);
    // step 2, gradient -1: m = 0.5 - 0.5 = 0, v = 0.75 + 0.25 = 1: the update is 0, only decay acts
    const before = Float32Array.from(p);
    adamwUpdate(p.subarray(0, 1), Float32Array.of(-1), m.subarray(0, 1), v.subarray(0, 1), {
      ...base,
      weightDecay: 0.2,
      t: 2,
    });
    adamwUpdate(p.subarray(1), Float32Array.of(-1), m.subarray(1), v.subarray(1), {
      ...base,
      weightDecay: 0,
      t: 2,
    });
    expect(p[0]).toBeCloseTo(before[0] * 0.98, 6);
    expect(p[1]).toBe(before[1]);
    expect(Array.from(v)).toEqual([1, 1]);
  });

  it('refuses arrays of different sizes', () => {
    const s = { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, t: 1 };
    expect(() =>
      adamwUpdate(new Float32Array(2), new Float32Array(3), new Float32Array(2), new Float32Array(2), s),
    ).toThrow(/differ in size/);
  });

  it('adamwStep fills in defaults, the schedule and decay only where asked', () => {
    const o: TrainerOptions = { lr: 0.4, warmupSteps: 4, totalSteps: 8, weightDecay: 0.1 };
    expect(adamwStep(o, 1, true)).toEqual({
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.1,
      t: 2,
    });
    expect(adamwStep(o, 6, false)).toEqual({
      lr: 0.2,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      t: 7,
    });
  });

  it('decays matrices, not vectors', () => {
    expect(decays({ name: 'w', shape: [2, 3], data: new Float32Array(6) })).toBe(true);
    expect(decays({ name: 'b', shape: [3], data: new Float32Array(3) })).toBe(false);
  });
});

describe('checkTrainerOptions', () => {
  it.each([
    [{ lr: 0, totalSteps: 5 }, 'lr must be positive (got 0)'],
    [{ lr: 1e-3, totalSteps: 0 }, 'totalSteps must be a positive integer (got 0)'],
    [
      { lr: 1e-3, totalSteps: 5, warmupSteps: 6 },
      'warmupSteps must be an integer in [0, totalSteps] (got 6)',
    ],
    [{ lr: 1e-3, totalSteps: 5, weightDecay: -1 }, 'weightDecay must be >= 0 (got -1)'],
    [{ lr: 1e-3, totalSteps: 5, betas: [1, 0.9] as const }, 'betas must lie in [0, 1) (got 1, 0.9)'],
    [{ lr: 1e-3, totalSteps: 5, eps: 0 }, 'eps must be positive'],
    [{ lr: 1e-3, totalSteps: 5, dropout: 1 }, 'dropout must lie in [0, 1) (got 1)'],
  ])('%o: %s', (o, message) => {
    let err: unknown;
    try {
      checkTrainerOptions(o);
    } catch (e) {
      err = e;
    }
    expect(isFmnError(err)).toBe(true);
    expect((err as Error).message).toBe(`invalid trainer options: ${message}`);
  });
});
