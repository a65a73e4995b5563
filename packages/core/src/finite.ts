/**
 * Non-finite values (NaN, +-Infinity) in stored weights: a model holding one would be merged,
 * evaluated or differentiated into garbage without a word, so readers refuse it by name.
 * The test looks at the exponent bits only (all ones = Inf or NaN), without decoding values.
 */
import type { RawTensor } from './tensor.js';

/** Little-endian words of `bytes` as a typed array, copying only when `bytes` is not aligned. */
function words<T>(bytes: Uint8Array, size: 2 | 4, make: (b: ArrayBufferLike, o: number, n: number) => T): T {
  const n = Math.floor(bytes.byteLength / size);
  if (bytes.byteOffset % size === 0) return make(bytes.buffer, bytes.byteOffset, n);
  return make(bytes.slice(0, n * size).buffer, 0, n);
}

/**
 * The index of the first NaN or infinite element of a float tensor, or -1 (also for integer
 * dtypes, which hold no such values). Assumes a little-endian host, as the rest of core does.
 */
export function firstNonFinite(t: RawTensor): number {
  const { bytes } = t;
  switch (t.dtype) {
    case 'F32': {
      const u = words(bytes, 4, (b, o, n) => new Uint32Array(b, o, n));
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7f800000) === 0x7f800000) return i;
      return -1;
    }
    case 'F64': {
      // the high word (sign + 11-bit exponent) is the second 32-bit word of each double
      const u = words(bytes, 4, (b, o, n) => new Uint32Array(b, o, n));
      for (let i = 1; i < u.length; i += 2) if ((u[i]! & 0x7ff00000) === 0x7ff00000) return (i - 1) / 2;
      return -1;
    }
    case 'F16': {
      const u = words(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7c00) === 0x7c00) return i;
      return -1;
    }
    case 'BF16': {
      const u = words(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
      for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7f80) === 0x7f80) return i;
      return -1;
    }
    default:
      return -1;
  }
}
