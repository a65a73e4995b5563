import { FmnError } from '@fmn/core';

export function parseNumber(option: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new FmnError(`${option}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

export function parseIntOption(option: string, v: string, min = -Infinity): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new FmnError(`${option}: expected an integer, got ${JSON.stringify(v)}`);
  if (n < min) throw new FmnError(`${option}: must be at least ${min}, got ${n}`);
  return n;
}

/** `--samples N|all` */
export function parseSamples(v: string): number | 'all' {
  if (v === 'all') return 'all';
  return parseIntOption('--samples', v, 1);
}
