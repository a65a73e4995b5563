/** Float32 views and encodings of raw tensors, shared by the engine's readers and writers. */
import { endianness } from 'node:os';
import { fromFloat32, toFloat32, type DType, type RawTensor } from '@fmn/core';

export const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['F16', 'BF16', 'F32', 'F64']);

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * float32 values of a raw tensor; an aligned little-endian F32 tensor is viewed in place, not
 * copied. Safe because SafetensorsFile.read returns a fresh buffer per call that nothing else
 * holds: the caller owns the view (a method may overwrite it, e.g. the full-Fisher floor).
 */
export function asFloat32(raw: RawTensor): Float32Array {
  const b = raw.bytes;
  if (raw.dtype === 'F32' && LITTLE_ENDIAN && b.byteOffset % 4 === 0) {
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }
  return toFloat32(raw);
}

/** Bytes of float32 values in `dtype`; F32 is a view (no copy). */
export function encode(data: Float32Array, dtype: DType): Uint8Array {
  if (dtype === 'F32' && LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return fromFloat32(data, dtype);
}
