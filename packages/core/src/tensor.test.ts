import { describe, expect, it } from 'vitest';
import {
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  fromFloat32,
  isDType,
  numel,
  toFloat32,
  type DType,
} from './tensor.js';

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x007f) !== 0;

describe('f16 <-> number', () => {
  // bit patterns from the IEEE 754 binary16 definition
  const known: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [1 + 2 ** -10, 0x3c01],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  it.each(known)('%d encodes as 0x%s and decodes back', (v, bits) => {
    expect(f32ToF16(v)).toBe(bits);
    expect(Object.is(f16ToF32(bits), v)).toBe(true);
  });

  it('1/3 rounds to 0x3555 (round to nearest)', () => {
    expect(f32ToF16(1 / 3)).toBe(0x3555);
    expect(f32ToF16(Math.fround(1 / 3))).toBe(0x3555);
  });

  it('rounds ties to even, in the normal range', () => {
    // halfway between 1 (0x3c00, even) and 1+2^-10 (0x3c01): down to even
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    // halfway between 0x3c01 (odd) and 0x3c02: up to even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // just above / below a tie go to the nearest
    expect(f32ToF16(Math.fround(1 + 2 ** -11 + 2 ** -20))).toBe(0x3c01);
    expect(f32ToF16(Math.fround(1 + 3 * 2 ** -11 - 2 ** -20))).toBe(0x3c01);
  });

  it('rounds ties to even, in the subnormal range', () => {
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24 -> 0
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 units -> 2
    expect(f32ToF16(5 * 2 ** -25)).toBe(0x0002); // tie between 2 and 3 units -> 2
    expect(f32ToF16(Math.fround(2 ** -25 * 1.001))).toBe(0x0001);
    expect(f32ToF16(2 ** -26)).toBe(0x0000);
    expect(f32ToF16(-(2 ** -26))).toBe(0x8000); // underflow keeps the sign
    // largest subnormal + half a unit is a tie with the smallest normal (even mantissa 0)
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400);
  });

  it('overflows to infinity exactly at the rounding boundary', () => {
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65519.99)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie between 65504 (odd) and 65536 -> inf
    expect(f32ToF16(-65520)).toBe(0xfc00);
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(3.4e38)).toBe(0x7c00);
  });

  it('keeps NaN a NaN', () => {
    expect(isF16NaN(f32ToF16(NaN))).toBe(true);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Number.isNaN(f16ToF32(0x7c01))).toBe(true);
  });

  it('rounds a float64 once (no double rounding through float32)', () => {
    // 1 + 2^-11 + 2^-40 is just above the tie, so it must round up; rounding it to float32
    // first would land exactly on the tie and then round down to 1.0.
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
  });

  it('every non-NaN half survives decode -> encode, and every midpoint rounds to the even neighbour', () => {
    for (let h = 0; h < 0x10000; h++) {
      if (isF16NaN(h)) continue;
      const v = f16ToF32(h);
      if (f32ToF16(v) !== h) throw new Error(`0x${h.toString(16)} -> ${v} -> 0x${f32ToF16(v).toString(16)}`);
      const next = h + 1;
      if ((h & 0x7fff) >= 0x7c00 || (next & 0x7fff) > 0x7c00 || (next & 0x8000) !== (h & 0x8000)) continue;
      // the exact midpoint of two neighbouring halves (exact in float64)
      const mid = (v + f16ToF32(next)) / 2;
      const even = (h & 1) === 0 ? h : next;
      if (f32ToF16(mid) !== even)
        throw new Error(`midpoint of 0x${h.toString(16)} went to 0x${f32ToF16(mid).toString(16)}`);
    }
  });
});

describe('bf16 <-> number', () => {
  const known: [number, number][] = [
    [1, 0x3f80],
    [-2, 0xc000],
    [3.140625, 0x4049],
    [2 ** -126, 0x0080], // smallest normal
    [2 ** -133, 0x0001], // smallest subnormal
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [(2 - 2 ** -7) * 2 ** 127, 0x7f7f], // largest finite
  ];
  it.each(known)('%d encodes as bits %d and decodes back', (v, bits) => {
    expect(f32ToBf16(v)).toBe(bits);
    expect(Object.is(bf16ToF32(bits), v)).toBe(true);
  });

  it('rounds to nearest, ties to even', () => {
    expect(f32ToBf16(Math.PI)).toBe(0x4049);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even (down)
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(Math.fround(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81);
    expect(f32ToBf16(2 ** -134)).toBe(0x0000); // subnormal tie -> 0
    expect(f32ToBf16(3 * 2 ** -134)).toBe(0x0002);
    expect(f32ToBf16(2 ** -149)).toBe(0x0000); // smallest float32 subnormal underflows
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -40)).toBe(0x3f81); // float64 input rounded once
  });

  it('overflows to infinity when past the last finite value', () => {
    // float32 max is above the midpoint between bf16 max and 2^128
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80);
    expect(f32ToBf16(-3.4028234663852886e38)).toBe(0xff80);
    expect(f32ToBf16(1e39)).toBe(0x7f80);
  });

  it('keeps NaN a NaN', () => {
    expect(isBf16NaN(f32ToBf16(NaN))).toBe(true);
    expect(Number.isNaN(bf16ToF32(0x7fc0))).toBe(true);
    expect(Number.isNaN(bf16ToF32(0xff81))).toBe(true);
  });

  it('every non-NaN bf16 survives decode -> encode', () => {
    for (let h = 0; h < 0x10000; h++) {
      if (isBf16NaN(h)) continue;
      const v = bf16ToF32(h);
      if (f32ToBf16(v) !== h)
        throw new Error(`0x${h.toString(16)} -> ${v} -> 0x${f32ToBf16(v).toString(16)}`);
      const next = h + 1;
      if ((h & 0x7fff) >= 0x7f80 || (next & 0x7fff) > 0x7f80 || (next & 0x8000) !== (h & 0x8000)) continue;
      const mid = (v + bf16ToF32(next)) / 2;
      const even = (h & 1) === 0 ? h : next;
      if (f32ToBf16(mid) !== even)
        throw new Error(`midpoint of 0x${h.toString(16)} went to 0x${f32ToBf16(mid).toString(16)}`);
    }
  });
});

/**
 * Checks that `bits` is the correctly rounded encoding of v: no other finite neighbour is nearer,
 * and on a tie the mantissa is even. Independent of the encoder: it only decodes.
 */
function checkNearest(v: number, bits: number, decode: (h: number) => number, maxFinite: number): void {
  const got = decode(bits);
  const a = Math.abs(v);
  if (a > maxFinite) {
    // beyond the largest finite value: either inf (past the midpoint) or the max itself
    if (!Number.isFinite(got)) return;
  }
  const err = Math.abs(got - v);
  for (const nb of [bits - 1, bits + 1]) {
    if (nb < 0 || (nb & 0x8000) !== (bits & 0x8000)) continue;
    const w = decode(nb);
    if (!Number.isFinite(w)) continue;
    const e2 = Math.abs(w - v);
    if (e2 < err || (e2 === err && (bits & 1) === 1)) {
      throw new Error(
        `${v}: got 0x${bits.toString(16)} (${got}), but 0x${nb.toString(16)} (${w}) is nearer or even`,
      );
    }
  }
}

describe('rounding of random inputs (property check against decode only)', () => {
  // a small deterministic generator (xorshift32), so failures are reproducible
  let s = 0x9e3779b9;
  const rnd = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);

  it('f16: random float32 values and random doubles of every magnitude', () => {
    for (let i = 0; i < 20000; i++) {
      const mag = 2 ** (Math.floor(rnd() * 44) - 28); // 2^-28 .. 2^15
      const v = (rnd() < 0.5 ? -1 : 1) * mag * (1 + rnd());
      checkNearest(Math.fround(v), f32ToF16(Math.fround(v)), f16ToF32, 65504);
      checkNearest(v, f32ToF16(v), f16ToF32, 65504);
    }
  });

  it('bf16: random float32 values and random doubles of every magnitude', () => {
    for (let i = 0; i < 20000; i++) {
      const mag = 2 ** (Math.floor(rnd() * 260) - 135);
      const v = (rnd() < 0.5 ? -1 : 1) * mag * (1 + rnd());
      checkNearest(Math.fround(v), f32ToBf16(Math.fround(v)), bf16ToF32, (2 - 2 ** -7) * 2 ** 127);
      checkNearest(v, f32ToBf16(v), bf16ToF32, (2 - 2 ** -7) * 2 ** 127);
    }
  });
});

describe('toFloat32 / fromFloat32', () => {
  // little-endian byte images written out by hand
  const cases: { dtype: DType; values: number[]; bytes: number[] }[] = [
    { dtype: 'F64', values: [1, -2], bytes: [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0] },
    { dtype: 'F32', values: [1, -2], bytes: [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0] },
    { dtype: 'F16', values: [1, -2], bytes: [0x00, 0x3c, 0x00, 0xc0] },
    { dtype: 'BF16', values: [1, -2], bytes: [0x80, 0x3f, 0x00, 0xc0] },
    {
      dtype: 'I64',
      values: [1, -2],
      bytes: [1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    },
    { dtype: 'I32', values: [1, -2], bytes: [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff] },
    { dtype: 'I16', values: [1, -2], bytes: [1, 0, 0xfe, 0xff] },
    { dtype: 'I8', values: [1, -2], bytes: [1, 0xfe] },
    { dtype: 'U8', values: [1, 254], bytes: [1, 0xfe] },
    { dtype: 'BOOL', values: [1, 0], bytes: [1, 0] },
  ];
  it.each(cases)('$dtype', ({ dtype, values, bytes }) => {
    expect([...fromFloat32(Float32Array.from(values), dtype)]).toEqual(bytes);
    expect([...toFloat32({ dtype, shape: [2], bytes: Uint8Array.from(bytes) })]).toEqual(values);
  });

  it('reads from a view that does not start at offset 0 of its buffer', () => {
    const buf = new Uint8Array([9, 9, 9, 0, 0, 0x80, 0x3f]);
    expect([...toFloat32({ dtype: 'F32', shape: [1], bytes: buf.subarray(3) })]).toEqual([1]);
  });

  it('rejects integers that do not fit instead of wrapping around', () => {
    expect(() => fromFloat32(Float32Array.from([128]), 'I8')).toThrow(/does not fit in I8/);
    expect(() => fromFloat32(Float32Array.from([-1]), 'U8')).toThrow(/does not fit in U8/);
    expect(() => fromFloat32(Float32Array.from([NaN]), 'I64')).toThrow(/does not fit in I64/);
    expect(() => fromFloat32(Float32Array.from([40000]), 'I16')).toThrow(/does not fit in I16/);
  });

  it('numel and isDType', () => {
    expect(numel([])).toBe(1);
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([2, 0])).toBe(0);
    expect(isDType('BF16')).toBe(true);
    expect(isDType('F8_E4M3')).toBe(false);
    expect(isDType('toString')).toBe(false);
  });
});
