/** Checks shared by fmn's Fisher and Gram file formats: the format name, F32 tensors, finite non-negative values. */
import { FmnError } from '../errors.js';
import type { SafetensorsFile } from '../safetensors.js';

/**
 * The file's metadata "format" must be `expected` when present (a file without one, written by
 * another tool, is read by its tensors).
 */
export function checkFormatName(f: SafetensorsFile, expected: string, what: string): void {
  const got = f.metadata.format;
  if (got !== undefined && got !== expected) {
    throw new FmnError(
      `not a ${what} file: its metadata "format" is ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
      f.path,
    );
  }
}

/** Every tensor of a Fisher or Gram file is F32 (an I32 or F16 one is an error, not a conversion). */
export function checkF32(f: SafetensorsFile, name: string, what: string): void {
  const dtype = f.info(name).dtype;
  if (dtype !== 'F32') {
    throw new FmnError(`${what} tensor "${name}" is ${dtype}; fmn's ${what} files hold F32 values`, f.path);
  }
}

/** Rejects NaN, infinite and negative values with the tensor, the index and the file. */
export function checkFiniteNonNegative(values: Float32Array, name: string, file: string, offset = 0): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const at = offset + i;
    if (Number.isNaN(v)) throw new FmnError(`Fisher tensor "${name}" has NaN at index ${at}`, file);
    if (!Number.isFinite(v))
      throw new FmnError(`Fisher tensor "${name}" has an infinite value at index ${at}`, file);
    if (v < 0) throw new FmnError(`Fisher tensor "${name}" has a negative value (${v}) at index ${at}`, file);
  }
}

/** A whole-number metadata value ("examples", "head_size"); `undefined` when absent. */
export function metadataCount(f: SafetensorsFile, key: string, what: string): number | undefined {
  const text = f.metadata[key];
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v)) {
    throw new FmnError(`${what} metadata "${key}" is ${JSON.stringify(text)}, not a whole number`, f.path);
  }
  return v;
}

/** Element-wise sum of float32 arrays in float64, returned as float32 (combining shards). */
export function sumFloat32(parts: readonly Float32Array[]): Float32Array {
  const acc = new Float64Array(parts[0]?.length ?? 0);
  for (const p of parts) {
    if (p.length !== acc.length) throw new Error(`sumFloat32: lengths ${p.length} and ${acc.length} differ`);
    for (let i = 0; i < p.length; i++) acc[i] += p[i];
  }
  return Float32Array.from(acc);
}
