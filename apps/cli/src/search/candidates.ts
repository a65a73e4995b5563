/**
 * The coefficient search's candidates and choice (docs/method.md §5.6): the scale of the
 * task-vector methods over {0.1, ..., 1.5}; the per-model lambda_j of the weighted methods over
 * {0, 0.1, ..., 1} x (1 - lambda_1) for two models, or the uniform point and seeded Dirichlet(1)
 * samples for more. The best mean held-out score wins; ties go to the smaller distance to the
 * uniform coefficients, then to the earlier candidate.
 */
import { FmnError } from '@fmn/core';
import { mulberry32 } from '@fmn/data';

export type SearchKind = 'scale' | 'lambdas';

export interface Candidate {
  /** the scale (kind `scale`: one value) or lambda_j per model (kind `lambdas`) */
  readonly coefficients: readonly number[];
  /** distance to the uniform coefficients: |scale - 1|, or the Euclidean distance to (1/M, ..., 1/M) */
  readonly distance: number;
}

/** Dirichlet(1) samples for more than two models when none is given. */
export const DEFAULT_DIRICHLET_SAMPLES = 20;

function distanceOf(kind: SearchKind, c: readonly number[]): number {
  if (kind === 'scale') return Math.abs(c[0] - 1);
  const u = 1 / c.length;
  return Math.sqrt(c.reduce((s, v) => s + (v - u) ** 2, 0));
}

/**
 * One Dirichlet(1) sample of size M: independent Exp(1) draws -ln(1 - u) (u from mulberry32, in
 * [0, 1)), divided by their sum.
 */
export function dirichletSample(rand: () => number, M: number): number[] {
  const x = Array.from({ length: M }, () => -Math.log(1 - rand()));
  const s = x.reduce((a, b) => a + b, 0);
  // s > 0 unless every draw was exactly 0 (u = 0 M times): then the uniform point
  return s > 0 ? x.map((v) => v / s) : x.map(() => 1 / M);
}

/** The candidates, in a fixed order (the scale or lambda_1 ascending; uniform first for M > 2). */
export function searchCandidates(
  kind: SearchKind,
  models: number,
  o: { seed?: number; samples?: number } = {},
): Candidate[] {
  let list: number[][];
  if (kind === 'scale') {
    list = Array.from({ length: 15 }, (_, i) => [(i + 1) / 10]);
  } else if (models === 2) {
    list = Array.from({ length: 11 }, (_, i) => [i / 10, (10 - i) / 10]);
  } else {
    const n = o.samples ?? DEFAULT_DIRICHLET_SAMPLES;
    if (!Number.isInteger(n) || n < 0)
      throw new FmnError(`the number of Dirichlet samples must be an integer >= 0, got ${n}`);
    const rand = mulberry32(o.seed ?? 0);
    list = [
      Array.from({ length: models }, () => 1 / models),
      ...Array.from({ length: n }, () => dirichletSample(rand, models)),
    ];
  }
  return list.map((c) => ({ coefficients: c, distance: distanceOf(kind, c) }));
}

export interface Scored extends Candidate {
  /** per task (model order): the held-out score of that task with its own head */
  readonly scores: readonly number[];
  /** mean of `scores` */
  readonly mean: number;
}

/**
 * The index of the chosen candidate: the largest mean (NaN never wins), then the smallest
 * distance to uniform, then the earliest.
 */
export function chooseCandidate(scored: readonly Scored[]): number {
  let best = -1;
  for (let i = 0; i < scored.length; i++) {
    const c = scored[i];
    if (Number.isNaN(c.mean)) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const b = scored[best];
    if (c.mean > b.mean || (c.mean === b.mean && c.distance < b.distance)) best = i;
  }
  if (best < 0) throw new FmnError('coefficient search: no candidate has a defined held-out score');
  return best;
}

/** mean of the scores (NaN if any is NaN) */
export function meanScore(scores: readonly number[]): number {
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}
