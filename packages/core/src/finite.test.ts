import { describe, expect, it } from 'vitest';
import { firstNonFinite } from './finite.js';
import { fromFloat32, type DType } from './tensor.js';

function raw(dtype: DType, values: number[]) {
  return { dtype, shape: [values.length], bytes: fromFloat32(Float32Array.from(values), dtype) };
}

describe('firstNonFinite', () => {
  for (const dtype of ['F32', 'F16', 'BF16', 'F64'] as const) {
    it(`${dtype}: finds NaN, +Inf and -Inf by index; finite values (extremes included) pass`, () => {
      expect(firstNonFinite(raw(dtype, [0, -0, 1, -2.5, 1e-8, 3e4]))).toBe(-1);
      expect(firstNonFinite(raw(dtype, [1, 2, NaN, 3]))).toBe(2);
      expect(firstNonFinite(raw(dtype, [Infinity]))).toBe(0);
      expect(firstNonFinite(raw(dtype, [1, -Infinity]))).toBe(1);
    });
  }

  it('F16 max (65504) and F32 max are finite', () => {
    expect(firstNonFinite(raw('F16', [65504, -65504]))).toBe(-1);
    expect(firstNonFinite(raw('F32', [3.4028234663852886e38]))).toBe(-1);
  });

  it('works on an unaligned view', () => {
    const bytes = new Uint8Array(13);
    const view = bytes.subarray(1);
    new DataView(view.buffer, view.byteOffset).setFloat32(8, NaN, true);
    expect(firstNonFinite({ dtype: 'F32', shape: [3], bytes: view })).toBe(2);
  });

  it('integer dtypes hold no non-finite values', () => {
    expect(
      firstNonFinite({ dtype: 'I32', shape: [1], bytes: new Uint8Array([0xff, 0xff, 0x80, 0x7f]) }),
    ).toBe(-1);
  });
});
