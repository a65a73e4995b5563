import type { Batch, FisherConvention, ModelSession } from './backend.js';
import type { MaskLayout } from './encoder.js';
import { FmnError } from './errors.js';
import { checkFiniteNonNegative } from './formats/validate.js';

/** Mask Fisher (METHOD.md section 3): sums, not means. head [L*H], neuron [L*I] row-major. */
export interface MaskFisher {
  readonly layout: MaskLayout;
  readonly head: Float32Array;
  readonly neuron: Float32Array;
  /** examples that went into the sums */
  readonly examples: number;
}

export type BatchSource = Iterable<Batch> | AsyncIterable<Batch>;

export interface FisherProgress {
  onBatch?: (info: { batches: number; examples: number; loss: number }) => void;
}

/**
 * Accumulates the mask Fisher of a model over batches.
 * `batch`: F = sum_b (dLoss_b/dm)^2 with Loss_b the batch-mean loss.
 * `example`: F = sum_i (dLoss_i/dm)^2, from per-example mask copies (one backward pass per batch).
 * Sums are kept in float64 and returned as float32.
 */
export async function computeMaskFisher(
  session: ModelSession,
  batches: BatchSource,
  convention: FisherConvention,
  progress: FisherProgress = {},
): Promise<MaskFisher> {
  const { layers, heads, intermediate } = session.layout;
  const nh = layers * heads;
  const nn = layers * intermediate;
  const head = new Float64Array(nh);
  const neuron = new Float64Array(nn);
  let examples = 0;
  let count = 0;
  for await (const batch of batches) {
    const g = await session.maskGradients(batch, { convention });
    const reps = convention === 'example' ? batch.size : 1;
    if (g.head.length !== reps * nh || g.neuron.length !== reps * nn) {
      throw new Error(
        `backend returned mask gradients of sizes ${g.head.length}/${g.neuron.length}, expected ${reps * nh}/${reps * nn}`,
      );
    }
    for (const [name, arr] of [
      ['head', g.head],
      ['neuron', g.neuron],
    ] as const) {
      for (let i = 0; i < arr.length; i++) {
        if (!Number.isFinite(arr[i])) {
          throw new FmnError(
            `the backend returned a non-finite ${name} mask gradient (${arr[i]}) at index ${i} of batch ${count + 1} (loss ${g.loss}); check the model and the data`,
          );
        }
      }
    }
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < nh; i++) head[i] += g.head[r * nh + i] ** 2;
      for (let i = 0; i < nn; i++) neuron[i] += g.neuron[r * nn + i] ** 2;
    }
    examples += batch.size;
    count++;
    progress.onBatch?.({ batches: count, examples, loss: g.loss });
  }
  if (examples === 0) throw new FmnError('no examples: the Fisher needs at least one');
  const fisher = {
    layout: session.layout,
    head: Float32Array.from(head),
    neuron: Float32Array.from(neuron),
    examples,
  };
  assertFiniteFisher(fisher, 'computed mask Fisher');
  return fisher;
}

/** Full diagonal Fisher (METHOD.md section 4): per parameter name, sum of squared per-example gradients. */
export async function computeFullFisher(
  session: ModelSession,
  batches: BatchSource,
  progress: FisherProgress = {},
): Promise<{ tensors: Map<string, Float32Array>; examples: number }> {
  if (!session.squaredParamGradients) throw new FmnError('this backend does not compute the full Fisher');
  const acc = new Map<string, Float32Array>();
  let examples = 0;
  let count = 0;
  for await (const batch of batches) {
    const sq = await session.squaredParamGradients(batch);
    if (count > 0 && sq.size !== acc.size) {
      throw new Error(
        `backend returned ${sq.size} squared-gradient tensors for batch ${count + 1}, ${acc.size} before`,
      );
    }
    for (const [name, v] of sq) {
      const a = acc.get(name);
      if (!a) {
        if (count > 0)
          throw new Error(`backend returned a new squared-gradient tensor "${name}" for batch ${count + 1}`);
        acc.set(name, Float32Array.from(v));
      } else {
        if (v.length !== a.length) {
          throw new Error(
            `backend returned ${v.length} values for "${name}" in batch ${count + 1}, ${a.length} before`,
          );
        }
        for (let i = 0; i < v.length; i++) a[i] += v[i];
      }
    }
    examples += batch.size;
    count++;
    progress.onBatch?.({ batches: count, examples, loss: NaN });
  }
  if (examples === 0) throw new FmnError('no examples: the Fisher needs at least one');
  return { tensors: acc, examples };
}

/** Rejects NaN, infinite and negative Fisher values with a clear error. */
export function assertFiniteFisher(f: { head: Float32Array; neuron: Float32Array }, file: string): void {
  checkFiniteNonNegative(f.head, 'head', file);
  checkFiniteNonNegative(f.neuron, 'neuron', file);
}
