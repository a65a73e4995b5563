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

const f64 = new Float64Array(1);
const u32of64 = new Uint32Array(f64.buffer);
/** index of the 32-bit word of a double that holds its sign and exponent on this host */
const HI_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Unbiased binary exponent of a finite, nonzero, normal double: floor(log2(|v|)), exactly. */
function exponentOf(v: number): number {
  f64[0] = v;
  return ((u32of64[HI_WORD] >>> 20) & 0x7ff) - 1023;
}

/** Round half to even of a non-negative double below 2^52 (exact: no intermediate rounding). */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Rounds |v| (finite, positive) to a binary float with `mantBits` fraction bits, exponent bias
 * `bias` and `expBits` exponent bits, round to nearest even, and returns its bits without sign.
 * Works straight from the double, so a float64 input is rounded once (no double rounding).
 */
function roundToSmallFloat(a: number, mantBits: number, expBits: number, bias: number): number {
  const minNormalExp = 1 - bias;
  const infBits = ((1 << expBits) - 1) << mantBits;
  if (a < 2 ** minNormalExp) {
    // subnormal (or rounds up to the smallest normal, whose bits follow on naturally)
    return roundHalfEven(a * 2 ** (mantBits - minNormalExp));
  }
  const e = exponentOf(a);
  if (e > bias) return infBits;
  const r = roundHalfEven(a * 2 ** (mantBits - e)); // in [2^m, 2^(m+1)]
  const bits = ((e + bias) << mantBits) + (r - 2 ** mantBits); // a carry moves into the exponent
  return bits >= infBits ? infBits : bits;
}

/** float32 bits -> IEEE half bits, round to nearest even. */
function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const half = 2 ** (shift - 1);
    let r = m >>> shift;
    const rem = m & (2 ** shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry moves into the exponent (up to inf)
  return sign | r;
}

/**
 * Number -> IEEE half bits, round to nearest even (as numpy and torch do); overflow gives inf,
 * NaN stays NaN (quiet) with its sign. Exact for any double input, not only float32 values.
 */
export function f32ToF16(v: number): number {
  f32[0] = v;
  if (f32[0] === v) return f32BitsToF16(u32[0]); // exactly a float32: the fast bit path
  if (Number.isNaN(v)) return ((u32[0] >>> 16) & 0x8000) | 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | 0x7c00;
  return sign | roundToSmallFloat(a, 10, 5, 15);
}

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/**
 * Number -> bfloat16 bits, round to nearest even; overflow gives inf, NaN stays NaN (quiet) with
 * its sign. Exact for any double input, not only float32 values.
 */
export function f32ToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if (f32[0] === v) {
    // exactly a float32 (the usual case): round the low 16 bits away, ties to even
    if ((x & 0x7f800000) === 0x7f800000) return (x >>> 16) | (x & 0x7fffff ? 0x40 : 0); // inf, NaN
    return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  if (Number.isNaN(v)) return ((x >>> 16) & 0xffff) | 0x0040;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | 0x7f80;
  return sign | roundToSmallFloat(a, 7, 8, 127);
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

/** Integer range of each integer dtype (I64 limited to the exactly representable doubles). */
const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U8: [0, 255],
};

/**
 * Encodes float32 values as little-endian bytes of `dtype` (float dtypes round to nearest even;
 * integer dtypes round to the nearest integer and reject values that do not fit instead of
 * wrapping around; BOOL is 1 for any nonzero value).
 */
export function fromFloat32(data: Float32Array, dtype: DType): Uint8Array {
  const range = INT_RANGE[dtype];
  if (range) {
    for (let i = 0; i < data.length; i++) {
      const r = Math.round(data[i]);
      if (!(r >= range[0] && r <= range[1])) {
        throw new RangeError(`value ${data[i]} at index ${i} does not fit in ${dtype}`);
      }
    }
  }
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
