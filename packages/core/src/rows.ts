/**
 * Row ranges of a tensor: rows are indices of the first dimension (a 1-D tensor's rows are its
 * elements, a 0-D tensor has one row). A row range [start, end) of a row-major tensor is one
 * contiguous run of its elements, so it can be read from a file, merged and written on its own.
 */
import { FmnError } from './errors.js';
import { numel } from './tensor.js';

export interface RowRange {
  /** first row */
  readonly start: number;
  /** one past the last row */
  readonly end: number;
}

/** Number of rows of `shape` (1 for a scalar). */
export function rowCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[0];
}

/** Elements per row of `shape` (1 for a scalar or a vector). */
export function rowSize(shape: readonly number[]): number {
  return shape.length <= 1 ? 1 : numel(shape.slice(1));
}

/** The shape of rows [start, end) of `shape` (a scalar's one row is the scalar itself). */
export function rowsShape(shape: readonly number[], rows: RowRange): number[] {
  return shape.length === 0 ? [] : [rows.end - rows.start, ...shape.slice(1)];
}

/** Throws an FmnError naming `file` unless `rows` is a row range of `shape` (`what` names the tensor). */
export function checkRowRange(shape: readonly number[], rows: RowRange, what: string, file?: string): void {
  const n = rowCount(shape);
  if (!(Number.isSafeInteger(rows.start) && Number.isSafeInteger(rows.end))) {
    throw new FmnError(`rows [${rows.start}, ${rows.end}) of ${what} are not integers`, file);
  }
  if (!(rows.start >= 0 && rows.start <= rows.end && rows.end <= n)) {
    throw new FmnError(`rows [${rows.start}, ${rows.end}) are outside ${what} (${n} rows)`, file);
  }
}

/**
 * Cuts `shape` into row ranges of at most `maxElements` elements each (at least one row per
 * range), in order; a tensor with no rows gets one empty range.
 */
export function rowChunks(shape: readonly number[], maxElements: number): RowRange[] {
  const n = rowCount(shape);
  const per = Math.max(1, Math.floor(maxElements / Math.max(1, rowSize(shape))));
  if (n === 0) return [{ start: 0, end: 0 }];
  const out: RowRange[] = [];
  for (let start = 0; start < n; start += per) out.push({ start, end: Math.min(n, start + per) });
  return out;
}
