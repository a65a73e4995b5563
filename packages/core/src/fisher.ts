import type { Batch, FisherConvention, FullFisherConvention, ModelSession } from './backend.js';
import type { MaskLayout } from './encoder.js';
import { FmnError } from './errors.js';
import { SafetensorsFile, writeSafetensors } from './safetensors.js';
import { fromFloat32 } from './tensor.js';

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
 * `model`: F = sum_i sum_c p(c|x_i) (d log p(c|x_i)/dm)^2 (regression: sum_i (d y_hat_i/dm)^2),
 * from the backend's weighted rows (MaskGradients.weights); no labels needed.
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
    const weights = rowWeights(convention, batch.size, g.weights);
    const reps = weights ? weights.length : convention === 'example' ? batch.size : 1;
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
      const w = weights ? weights[r] : 1;
      for (let i = 0; i < nh; i++) head[i] += w * g.head[r * nh + i] ** 2;
      for (let i = 0; i < nn; i++) neuron[i] += w * g.neuron[r * nn + i] ** 2;
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

/** The `model` convention's row weights (probabilities), checked; undefined for the others. */
function rowWeights(
  convention: FisherConvention,
  B: number,
  w: Float32Array | undefined,
): Float32Array | undefined {
  if (convention !== 'model') return undefined;
  if (!w || w.length === 0 || w.length % B !== 0)
    throw new Error(
      `backend returned ${w?.length ?? 'no'} row weights for the model convention on ${B} examples`,
    );
  for (let r = 0; r < w.length; r++) {
    if (!(w[r] >= 0 && w[r] <= 1))
      throw new Error(`backend returned row weight ${w[r]} (a probability) at row ${r}`);
  }
  return w;
}

/**
 * Full diagonal Fisher (METHOD.md section 4): per parameter name, sum of squared per-example
 * gradients; `model` convention: expectation over the model's own predictive distribution.
 */
export async function computeFullFisher(
  session: ModelSession,
  batches: BatchSource,
  progress: FisherProgress = {},
  convention: FullFisherConvention = 'example',
): Promise<{ tensors: Map<string, Float32Array>; examples: number }> {
  if (!session.squaredParamGradients) throw new FmnError('this backend does not compute the full Fisher');
  const acc = new Map<string, Float32Array>();
  let examples = 0;
  let count = 0;
  for await (const batch of batches) {
    const sq = await session.squaredParamGradients(batch, { convention });
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
  for (const [name, arr] of [
    ['head', f.head],
    ['neuron', f.neuron],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (Number.isNaN(v)) throw new FmnError(`Fisher tensor "${name}" has NaN at index ${i}`, file);
      if (!Number.isFinite(v))
        throw new FmnError(`Fisher tensor "${name}" has an infinite value at index ${i}`, file);
      if (v < 0)
        throw new FmnError(`Fisher tensor "${name}" has a negative value (${v}) at index ${i}`, file);
    }
  }
}

/** Writes a mask Fisher as safetensors: float32 `head` [L, H], `neuron` [L, I], with metadata. */
export async function writeMaskFisher(
  path: string,
  fisher: MaskFisher,
  metadata: Record<string, string> = {},
): Promise<void> {
  const { layers, heads, headSize, intermediate } = fisher.layout;
  await writeSafetensors(
    path,
    [
      { name: 'head', dtype: 'F32', shape: [layers, heads], data: fromFloat32(fisher.head, 'F32') },
      {
        name: 'neuron',
        dtype: 'F32',
        shape: [layers, intermediate],
        data: fromFloat32(fisher.neuron, 'F32'),
      },
    ],
    // the layout keys come last: they describe the tensors and must not be overridden
    {
      ...metadata,
      format: 'fmn-mask-fisher',
      head_size: String(headSize),
      examples: String(fisher.examples),
    },
  );
}

/** Reads and validates a mask Fisher file. */
export async function readMaskFisher(
  path: string,
): Promise<MaskFisher & { metadata: Readonly<Record<string, string>> }> {
  const f = await SafetensorsFile.open(path);
  try {
    for (const name of ['head', 'neuron']) {
      if (!f.has(name)) throw new FmnError(`not a mask Fisher file: no "${name}" tensor`, path);
      if (f.info(name).shape.length !== 2)
        throw new FmnError(`mask Fisher tensor "${name}" must be 2-D`, path);
    }
    const [layers, heads] = f.info('head').shape;
    const [nl, intermediate] = f.info('neuron').shape;
    if (nl !== layers)
      throw new FmnError(`mask Fisher "head" has ${layers} layers but "neuron" has ${nl}`, path);
    const head = await f.readFloat32('head');
    const neuron = await f.readFloat32('neuron');
    assertFiniteFisher({ head, neuron }, path);
    const count = (key: string): number => {
      const text = f.metadata[key];
      if (text === undefined) return 0;
      const v = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(v)) {
        throw new FmnError(
          `mask Fisher metadata "${key}" is ${JSON.stringify(text)}, not a whole number`,
          path,
        );
      }
      return v;
    };
    return {
      layout: { layers, heads, headSize: count('head_size'), intermediate },
      head,
      neuron,
      examples: count('examples'),
      metadata: f.metadata,
    };
  } finally {
    await f.close();
  }
}
