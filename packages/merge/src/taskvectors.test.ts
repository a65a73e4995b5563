import { describe, expect, it } from 'vitest';
import { Rng } from '@fmn/testkit';
import {
  addScaled,
  dareDrop,
  dareRng,
  disjointMean,
  electSigns,
  MagnitudeSelector,
  SeededRng,
  signSum,
  sumVectors,
  taskVector,
  tiesMerge,
  topKThreshold,
  trimBelow,
  trimTopK,
} from './taskvectors.js';

const f = (a: number[]): Float32Array => Float32Array.from(a);

describe('TIES', () => {
  it('trim keeps |x| >= the (n - floor(n k/100))-th smallest magnitude, as the reference implementation', () => {
    // n = 4, k = 25: keep = 1, rank 3 -> sorted magnitudes [0.5, 1, 2, 3] -> threshold 2
    expect(topKThreshold(f([0.5, -1, 2, -3]), 25)).toBe(2);
    expect([...trimTopK(f([0.5, -1, 2, -3]), 25)]).toEqual([0, 0, 2, -3]);
    // k = 100 keeps everything
    expect([...trimTopK(f([0.5, -1, 2, -3]), 100)]).toEqual([0.5, -1, 2, -3]);
    // k so small that floor(n k / 100) = 0: the threshold is the largest magnitude
    expect([...trimTopK(f([0.5, -1, 2, -3]), 10)]).toEqual([0, 0, 0, -3]);
  });

  it('elects the sign of the summed vectors; zero sums take the majority sign', () => {
    const t1 = f([1, -2, 3, 0.5, 2, 1]);
    const t2 = f([-3, 1, 1, -0.1, -2, 1]);
    // sums: -2, -1, 4, 0.4, 0, 2 -> signs -, -, +, +, 0, + ; sum of signs = 1 -> majority +1
    expect(signSum([t1, t2])).toBe(1);
    expect([...electSigns([t1, t2], 1)]).toEqual([-1, -1, 1, 1, 1, 1]);
    // disjoint mean of the agreeing entries
    expect([...disjointMean([t1, t2], electSigns([t1, t2], 1))]).toEqual([-3, -2, 2, 0.5, 2, 1]);
    expect([...tiesMerge([t1, t2], 100)]).toEqual([-3, -2, 2, 0.5, 2, 1]);
  });

  it('trims, elects and averages: a hand-made example', () => {
    // t1 trimmed at 50%: magnitudes [4, 1, 0.2, 3] -> threshold 1 -> [4, -1, 0, 3]
    // t2: magnitudes [2, 0.5, 1, 0.1] -> threshold 0.5 -> [-2, 0.5, 1, 0]
    // sums [2, -0.5, 1, 3] -> signs + - + + -> agreeing means [4, -1, 1, 3]
    expect([...tiesMerge([f([4, -1, 0.2, 3]), f([-2, 0.5, 1, -0.1])], 50)]).toEqual([4, -1, 1, 3]);
  });

  it("disjoint mean reports each agreeing model's |value| / count", () => {
    const contrib = new Float64Array(2);
    disjointMean([f([2, -1]), f([4, 3])], Int8Array.from([1, 1]), contrib);
    // entry 0: both agree (2, 4) -> 1 and 2; entry 1: only model 2 (3) -> 3
    expect([...contrib]).toEqual([1, 5]);
  });

  it('the two-pass magnitude selector finds the same threshold as sorting', () => {
    const rng = new Rng(7);
    const chunks = [rng.normals(1000), rng.normals(3), f([0, 0, 0, 1, -1, 1]), rng.normals(2500, 1e-3)];
    const all = Float32Array.from(chunks.flatMap((c) => [...c]));
    for (const k of [0.01, 1, 20, 37.5, 90, 100]) {
      const s = new MagnitudeSelector(k);
      chunks.forEach((c) => s.addFirst(c));
      if (s.finishFirst()) chunks.forEach((c) => s.addSecond(c));
      expect(s.threshold()).toBe(topKThreshold(all, k));
    }
  });
});

describe('DARE', () => {
  it('drops with probability p and rescales survivors by 1/(1-p): E[rescaled] = tau', () => {
    const n = 200_000;
    const ones = new Float32Array(n).fill(1);
    const out = dareDrop(ones, 0.9, new SeededRng(42));
    let kept = 0;
    let sum = 0;
    for (const v of out) {
      if (v !== 0) {
        kept++;
        expect(v).toBe(Math.fround(1 / (1 - 0.9)));
      }
      sum += v;
    }
    // kept ~ Binomial(n, 0.1): sd = sqrt(n 0.1 0.9) = 134; the mean of the output has sd 3/sqrt(n) = 0.0067
    expect(Math.abs(kept - n * 0.1)).toBeLessThan(5 * 134);
    expect(Math.abs(sum / n - 1)).toBeLessThan(5 * 0.0067);
  });

  it('entry i is dropped exactly when the i-th draw is below p', () => {
    const tau = f([1, -2, 3, -4, 5, -6, 7, -8]);
    const out = dareDrop(tau, 0.5, new SeededRng(3));
    const draws = new SeededRng(3);
    tau.forEach((v, i) => expect(out[i]).toBe(draws.next() < 0.5 ? 0 : 2 * v));
  });

  it('p = 0 keeps the vector; p outside [0, 1) is an error', () => {
    expect([...dareDrop(f([1, 2]), 0, new SeededRng(1))]).toEqual([1, 2]);
    expect(() => dareDrop(f([1]), 1, new SeededRng(1))).toThrow(/\[0, 1\)/);
  });

  it('per-tensor streams: same (seed, model, tensor) -> same mask, otherwise different', () => {
    const ones = new Float32Array(64).fill(1);
    const a = dareDrop(ones, 0.5, dareRng(0, 1, 'layer.0.q.weight'));
    expect([...dareDrop(ones, 0.5, dareRng(0, 1, 'layer.0.q.weight'))]).toEqual([...a]);
    expect([...dareDrop(ones, 0.5, dareRng(0, 2, 'layer.0.q.weight'))]).not.toEqual([...a]);
    expect([...dareDrop(ones, 0.5, dareRng(1, 1, 'layer.0.q.weight'))]).not.toEqual([...a]);
    expect([...dareDrop(ones, 0.5, dareRng(0, 1, 'layer.0.k.weight'))]).not.toEqual([...a]);
  });
});

describe('task arithmetic pieces', () => {
  it('task vectors and their sum', () => {
    const base = f([1, 1, 1]);
    const t1 = taskVector(f([2, 0, 1]), base);
    const t2 = taskVector(f([1, 3, -1]), base);
    expect([...t1]).toEqual([1, -1, 0]);
    const contrib = new Float64Array(2);
    expect([...sumVectors([t1, t2], contrib)]).toEqual([1, 1, -2]);
    expect([...contrib]).toEqual([2, 4]);
  });

  it('base + scale * tau', () => {
    expect([...addScaled(f([1, 2, 3]), f([2, -4, 0.5]), 0.5)]).toEqual([2, 0, 3.25]);
  });
});

describe('in place (the engine reuses its own freshly read arrays)', () => {
  it('dareDrop, trimBelow and addScaled give the same values into their input as into a new array', () => {
    const tau = f([1, -2, 3, -4, 5, -6, 7, -8]);
    const copy = dareDrop(tau, 0.5, new SeededRng(9));
    const inPlace = Float32Array.from(tau);
    expect(dareDrop(inPlace, 0.5, new SeededRng(9), inPlace)).toBe(inPlace);
    expect([...inPlace]).toEqual([...copy]);

    const trimmed = Float32Array.from(tau);
    expect(trimBelow(trimmed, 5, trimmed)).toBe(trimmed);
    expect([...trimmed]).toEqual([0, 0, 0, 0, 5, -6, 7, -8]);
    expect([...tau]).toEqual([1, -2, 3, -4, 5, -6, 7, -8]);

    const combined = f([2, 2]);
    expect(addScaled(f([1, -1]), combined, 3, combined)).toBe(combined);
    expect([...combined]).toEqual([7, 5]);
  });
});
