/**
 * Strided views: which elements of a storage a (size, stride, offset) view covers, and copying them
 * out in row-major order.
 */

export function viewNumel(size: readonly number[]): number {
  return size.reduce((a, b) => a * b, 1);
}

/** The storage elements [first, end) a non-empty view touches (torch strides are non-negative). */
export function viewSpan(
  offset: number,
  size: readonly number[],
  stride: readonly number[],
): [number, number] {
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i]! - 1) * stride[i]!;
  return [offset, last + 1];
}

/** True when the view is row-major contiguous (dims of size 1 may have any stride). */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] === 1) continue;
    if (stride[i] !== expected) return false;
    expected *= size[i]!;
  }
  return true;
}

/**
 * Copies a view out of `span` (the storage bytes from the view's first element on) into a new
 * row-major buffer. `elem` is the element size in bytes.
 */
export function gatherView(
  span: Uint8Array,
  size: readonly number[],
  stride: readonly number[],
  elem: number,
): Uint8Array {
  const n = viewNumel(size);
  const out = new Uint8Array(n * elem);
  if (n === 0) return out;
  const dims = size.length;
  const idx = new Array<number>(dims).fill(0);
  let src = 0; // element offset into span
  for (let k = 0; k < n; k++) {
    const s = src * elem;
    for (let b = 0; b < elem; b++) out[k * elem + b] = span[s + b]!;
    // advance the row-major counter
    for (let d = dims - 1; d >= 0; d--) {
      idx[d]!++;
      src += stride[d]!;
      if (idx[d]! < size[d]!) break;
      src -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
