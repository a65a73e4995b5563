/**
 * Task-vector methods (METHOD.md 5.3): task arithmetic, TIES and DARE, as pure functions on
 * Float32Arrays, plus the streaming pieces (an exact k-th-magnitude selector over many tensors,
 * a seeded per-tensor RNG) the engine uses to apply TIES over a whole model tensor by tensor.
 */
import { FmnError } from '@fmn/core';

/** mulberry32: small, fast, deterministic across machines. */
export class SeededRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** FNV-1a 32-bit over the UTF-8 bytes of `text`, starting from `seed`. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The RNG DARE uses for model `modelIndex`'s tensor `name` under the user's `seed`: each
 * (seed, model, tensor) has its own stream, so the drop mask of a tensor does not depend on the
 * order tensors are visited in, and a second pass over the model redraws the same mask.
 */
export function dareRng(seed: number, modelIndex: number, name: string): SeededRng {
  return new SeededRng(hash32(`${modelIndex}\u0000${name}`, hash32(String(seed))));
}

/** Task vector theta - base (float32 arithmetic). */
export function taskVector(theta: Float32Array, base: Float32Array): Float32Array {
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] - base[i];
  return out;
}

export function checkDropRate(p: number): void {
  if (!(p >= 0 && p < 1)) throw new FmnError(`DARE drop rate p must be in [0, 1), got ${p}`);
}

/**
 * DARE: drops each entry with probability p (entry i is dropped when the i-th draw of `rng` is
 * below p) and rescales the survivors by 1 / (1 - p). Writes into `out` (a new array by default;
 * `tau` itself to work in place).
 */
export function dareDrop(
  tau: Float32Array,
  p: number,
  rng: SeededRng,
  out: Float32Array = new Float32Array(tau.length),
): Float32Array {
  checkDropRate(p);
  const scale = 1 / (1 - p);
  for (let i = 0; i < tau.length; i++) out[i] = rng.next() < p ? 0 : tau[i] * scale;
  return out;
}

/** Number of entries TIES keeps out of n for top-k% (k in (0, 100]): floor(n * k / 100). */
export function keepCount(n: number, k: number): number {
  return Math.floor((n * k) / 100);
}

export function checkTopK(k: number): void {
  if (!(k > 0 && k <= 100)) throw new FmnError(`TIES top-k must be a percentage in (0, 100], got ${k}`);
}

/**
 * The magnitude threshold of TIES' trim, as the reference implementation computes it: the
 * (n - keep)-th smallest |x| (1-based), with keep = floor(n k / 100); entries with |x| >= it are
 * kept (ties at the threshold are all kept). When keep == n every entry is kept (threshold 0).
 */
export function topKThreshold(values: Float32Array, k: number): number {
  checkTopK(k);
  const n = values.length;
  const rank = n - keepCount(n, k);
  if (rank <= 0 || n === 0) return 0;
  const mags = Float32Array.from(values, Math.abs).sort();
  return mags[rank - 1];
}

/** Keeps entries with |x| >= threshold, zeroes the rest (into `out`: new by default, or `values` itself). */
export function trimBelow(
  values: Float32Array,
  threshold: number,
  out: Float32Array = new Float32Array(values.length),
): Float32Array {
  for (let i = 0; i < values.length; i++) out[i] = Math.abs(values[i]) >= threshold ? values[i] : 0;
  return out;
}

/** TIES trim on one whole vector: keep its top-k% magnitudes. */
export function trimTopK(values: Float32Array, k: number): Float32Array {
  return trimBelow(values, topKThreshold(values, k));
}

/**
 * Elected signs: sign of the sum over models of the trimmed vectors; entries where that sum is 0
 * take `majority` (the sign of the sum of all elected signs, see majoritySign).
 */
export function electSigns(trimmed: readonly Float32Array[], majority: number): Int8Array {
  const n = trimmed[0]?.length ?? 0;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const t of trimmed) s += t[i];
    out[i] = s > 0 ? 1 : s < 0 ? -1 : majority;
  }
  return out;
}

/** sum over entries of sign(sum_j trimmed_j) - its sign is the majority sign. */
export function signSum(trimmed: readonly Float32Array[]): number {
  const n = trimmed[0]?.length ?? 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const t of trimmed) s += t[i];
    total += Math.sign(s);
  }
  return total;
}

/**
 * TIES' elect + disjoint mean of one tensor in a single pass, written over `trimmed[0]`: per entry
 * the elected sign (that of sum_j trimmed_j, `majority` where the sum is 0, as electSigns) and the
 * mean of the agreeing values (as disjointMean, the same float64 sums in model order, so the same
 * float32 results), without the sign and output arrays: the peak of a merge of many models holds
 * one tensor fewer. `contrib[j]` gets sum_i |agreeing value| / count as in disjointMean.
 */
export function electAndDisjointMeanInPlace(
  trimmed: readonly Float32Array[],
  majority: number,
  contrib?: Float64Array,
): Float32Array {
  const out = trimmed[0];
  const n = out?.length ?? 0;
  const M = trimmed.length;
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let j = 0; j < M; j++) total += trimmed[j][i];
    const pos = (total > 0 ? 1 : total < 0 ? -1 : majority) > 0;
    let s = 0;
    let count = 0;
    for (let j = 0; j < M; j++) {
      const v = trimmed[j][i];
      if (pos ? v > 0 : v < 0) {
        s += v;
        count++;
      }
    }
    if (count > 0 && contrib) {
      for (let j = 0; j < M; j++) {
        const v = trimmed[j][i];
        if (pos ? v > 0 : v < 0) contrib[j] += Math.abs(v) / count;
      }
    }
    // entry i of trimmed[0] is read for the last time above
    out[i] = count > 0 ? s / count : 0;
  }
  return out;
}

/**
 * TIES' disjoint mean: per entry, the mean of the trimmed values that agree with the elected sign
 * (positive where the sign is +1, negative otherwise); 0 where none agrees. `contrib[j]` gets
 * the sum over entries of |value_j| / (number agreeing) for the agreeing models (for shares).
 */
export function disjointMean(
  trimmed: readonly Float32Array[],
  signs: Int8Array,
  contrib?: Float64Array,
): Float32Array {
  const n = signs.length;
  const out = new Float32Array(n);
  const M = trimmed.length;
  for (let i = 0; i < n; i++) {
    const pos = signs[i] > 0;
    let s = 0;
    let count = 0;
    for (let j = 0; j < M; j++) {
      const v = trimmed[j][i];
      if (pos ? v > 0 : v < 0) {
        s += v;
        count++;
      }
    }
    if (count > 0) {
      out[i] = s / count;
      if (contrib) {
        for (let j = 0; j < M; j++) {
          const v = trimmed[j][i];
          if (pos ? v > 0 : v < 0) contrib[j] += Math.abs(v) / count;
        }
      }
    }
  }
  return out;
}

/**
 * TIES on whole task vectors (each array is one model's entire task vector): trim each to its
 * top-k%, elect signs, disjoint mean. Returns the merged task vector (not yet scaled or added to base).
 */
export function tiesMerge(taus: readonly Float32Array[], k: number): Float32Array {
  const trimmed = taus.map((t) => trimTopK(t, k));
  const total = signSum(trimmed);
  return disjointMean(trimmed, electSigns(trimmed, Math.sign(total)));
}

/** Task arithmetic: sum_j taus_j (adds |tau_j| per model into contrib when given). */
export function sumVectors(taus: readonly Float32Array[], contrib?: Float64Array): Float32Array {
  const n = taus[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (let j = 0; j < taus.length; j++) {
    const t = taus[j];
    let a = 0;
    for (let i = 0; i < n; i++) {
      out[i] += t[i];
      a += Math.abs(t[i]);
    }
    if (contrib) contrib[j] += a;
  }
  return out;
}

/**
 * sumVectors written over `taus[0]` (the same float32 sums in the same order, -0 included: entry
 * i starts as 0 + taus[0][i]); no output array, so a merge of many models holds one tensor fewer.
 * `contrib[j]` is summed onto entry by entry (as sumVectors' per-model sum is from 0), so the row
 * blocks of a tensor summed in order into one `contrib` give the whole tensor's sums exactly.
 */
export function sumVectorsInPlace(taus: readonly Float32Array[], contrib?: Float64Array): Float32Array {
  const out = taus[0];
  const n = out?.length ?? 0;
  for (let j = 0; j < taus.length; j++) {
    const t = taus[j];
    let a = contrib ? contrib[j] : 0;
    if (j === 0) {
      for (let i = 0; i < n; i++) {
        a += Math.abs(t[i]);
        out[i] = 0 + t[i];
      }
    } else {
      for (let i = 0; i < n; i++) {
        out[i] += t[i];
        a += Math.abs(t[i]);
      }
    }
    if (contrib) contrib[j] = a;
  }
  return out;
}

/** base + scale * tau (into `out`: new by default, or `base` / `tau` itself). */
export function addScaled(
  base: Float32Array,
  tau: Float32Array,
  scale: number,
  out: Float32Array = new Float32Array(base.length),
): Float32Array {
  for (let i = 0; i < base.length; i++) out[i] = base[i] + scale * tau[i];
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function magnitudeBits(v: number): number {
  f32[0] = v;
  return u32[0] & 0x7fffffff;
}

/**
 * Exact k-th smallest magnitude over values seen across many arrays, in two passes of
 * constant memory (a radix select on the float32 bit patterns, which order like the magnitudes):
 * pass 1 counts the high 16 bits, pass 2 the low 16 bits within the bin that holds the target.
 */
export class MagnitudeSelector {
  private readonly hi = new Float64Array(1 << 15);
  private readonly lo = new Float64Array(1 << 16);
  private count = 0;
  private bin = -1;
  /** how many values are below the chosen bin */
  private below = 0;
  private rank = 0;
  private done = false;

  constructor(private readonly k: number) {
    checkTopK(k);
  }

  /** Pass 1. */
  addFirst(values: Float32Array): void {
    for (let i = 0; i < values.length; i++) this.hi[magnitudeBits(values[i]) >>> 16]++;
    this.count += values.length;
  }

  /** Between the passes: picks the bin; returns false when no second pass is needed. */
  finishFirst(): boolean {
    this.rank = this.count - keepCount(this.count, this.k);
    if (this.rank <= 0) {
      this.done = true;
      return false;
    }
    let cum = 0;
    for (let b = 0; b < this.hi.length; b++) {
      if (cum + this.hi[b] >= this.rank) {
        this.bin = b;
        this.below = cum;
        return true;
      }
      cum += this.hi[b];
    }
    throw new Error('MagnitudeSelector: rank beyond the count');
  }

  /** Pass 2. */
  addSecond(values: Float32Array): void {
    for (let i = 0; i < values.length; i++) {
      const bits = magnitudeBits(values[i]);
      if (bits >>> 16 === this.bin) this.lo[bits & 0xffff]++;
    }
  }

  /** The threshold: keep |x| >= it (0 keeps everything). */
  threshold(): number {
    if (this.done) return 0;
    let cum = this.below;
    for (let b = 0; b < this.lo.length; b++) {
      cum += this.lo[b];
      if (cum >= this.rank) {
        u32[0] = (this.bin << 16) | b;
        return f32[0];
      }
    }
    throw new Error('MagnitudeSelector: second pass saw fewer values than the first');
  }
}
