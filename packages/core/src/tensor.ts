/** safetensors dtypes that fmn reads and writes. float32 is the compute type. */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** A tensor as stored: dtype, shape and its little-endian bytes. */
export interface RawTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A float32 tensor in row-major order. */
export interface FloatTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half -> float (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float -> IEEE half, round to nearest even (as numpy and torch do). */
export function f32ToF16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** float -> bfloat16, round to nearest even; NaN stays NaN. */
export function f32ToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Converts stored bytes of any dtype to float32 (F16/BF16 exactly, F64 rounded, integers as values). */
export function toFloat32(raw: RawTensor): Float32Array {
  const n = numel(raw.shape);
  const out = new Float32Array(n);
  const dv = view(raw.bytes);
  switch (raw.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16ToF32(dv.getUint16(2 * i, true));
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = raw.bytes[i];
      break;
  }
  return out;
}

/** Encodes float32 values as little-endian bytes of `dtype` (float dtypes round to nearest even). */
export function fromFloat32(data: Float32Array, dtype: DType): Uint8Array {
  const n = data.length;
  const bytes = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const dv = view(bytes);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, data[i], true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, data[i], true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, f32ToF16(data[i]), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, f32ToBf16(data[i]), true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, BigInt(Math.round(data[i])), true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, Math.round(data[i]), true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) dv.setInt16(2 * i, Math.round(data[i]), true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) dv.setInt8(i, Math.round(data[i]));
      break;
    case 'U8':
      for (let i = 0; i < n; i++) bytes[i] = Math.round(data[i]);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) bytes[i] = data[i] ? 1 : 0;
      break;
  }
  return bytes;
}
