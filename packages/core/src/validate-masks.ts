/**
 * The input contract of every backend for mask values and Fisher conventions: one implementation
 * and one set of messages (as validate-batch.ts for batches).
 */
import { onesMasks, type FisherConvention, type FullFisherConvention, type MaskValues } from './backend.js';
import type { MaskLayout } from './encoder.js';
import { FmnError } from './errors.js';

export const FISHER_CONVENTIONS: readonly FisherConvention[] = ['batch', 'example', 'model'];

export const FULL_FISHER_CONVENTIONS: readonly FullFisherConvention[] = ['example', 'model'];

/** Throws an FmnError unless `convention` is `batch`, `example` or `model`. */
export function checkConvention(convention: unknown): asserts convention is FisherConvention {
  if (!FISHER_CONVENTIONS.includes(convention as FisherConvention))
    throw new FmnError(`unknown Fisher convention ${JSON.stringify(convention)} (batch, example or model)`);
}

/** The full-Fisher convention of `options` (default `example`); an FmnError for any other value. */
export function fullFisherConventionOf(options?: { convention?: unknown }): FullFisherConvention {
  const c = options?.convention ?? 'example';
  if (!FULL_FISHER_CONVENTIONS.includes(c as FullFisherConvention))
    throw new FmnError(`unknown full Fisher convention ${JSON.stringify(c)} (example or model)`);
  return c as FullFisherConvention;
}

function checkValues(name: string, a: unknown): Float32Array {
  if (!(a instanceof Float32Array)) {
    const got = a === null || typeof a !== 'object' ? typeof a : (a.constructor?.name ?? 'object');
    throw new FmnError(`invalid masks: ${name} must be a Float32Array, got ${got}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new FmnError(`invalid masks: ${name} value ${a[i]} at index ${i}`);
  }
  return a;
}

/**
 * Checks masks for a convention: `batch` takes shared masks, head [L*H] and neuron [L*I];
 * `example` and `model` per-example copies, head [B*L*H] and neuron [B*L*I]. Every value must be finite.
 * Returns the masks, or ones of the right size when none are given.
 */
export function masksFor(
  layout: MaskLayout,
  batchSize: number,
  convention: FisherConvention,
  masks?: MaskValues,
): MaskValues {
  checkConvention(convention);
  const reps = convention === 'batch' ? 1 : batchSize;
  if (masks === undefined) return onesMasks(layout, reps);
  const head = checkValues('head', masks.head);
  const neuron = checkValues('neuron', masks.neuron);
  const { layers: L, heads: H, intermediate: I } = layout;
  if (head.length !== reps * L * H || neuron.length !== reps * L * I) {
    throw new FmnError(
      `invalid masks: the ${convention} convention needs head [${reps * L * H}] and neuron [${reps * L * I}] values, got ${head.length} and ${neuron.length}`,
    );
  }
  return masks;
}

/**
 * The convention of masks given to `loss`, recognised by their size: `batch` when they fit
 * shared masks [L*H] / [L*I], else `example` when they fit per-example copies [B*L*H] / [B*L*I];
 * anything else is an FmnError. Every value must be finite.
 */
export function maskConventionOf(layout: MaskLayout, masks: MaskValues, batchSize: number): FisherConvention {
  const head = checkValues('head', masks.head);
  const neuron = checkValues('neuron', masks.neuron);
  const { layers: L, heads: H, intermediate: I } = layout;
  const B = batchSize;
  if (head.length === L * H && neuron.length === L * I) return 'batch';
  if (head.length === B * L * H && neuron.length === B * L * I) return 'example';
  throw new FmnError(
    `invalid masks: head/neuron sizes ${head.length}/${neuron.length} fit neither shared masks [${L * H}]/[${L * I}] nor per-example masks [${B * L * H}]/[${B * L * I}]`,
  );
}
