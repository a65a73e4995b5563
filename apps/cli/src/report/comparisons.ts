/**
 * What the comparisons with `average` say, in words: per k, which methods beat or lose to
 * average beyond noise (their 95% paired-bootstrap interval excludes 0), and a one-sentence
 * verdict over every k.
 */
import type { Interval, ReportComparison } from './types.js';

export type Standing = 'beats' | 'loses' | 'within noise';

/** Which side of 0 the comparison's interval lies on. */
export function standing(c: ReportComparison): Standing {
  if (!c.significant) return 'within noise';
  return c.ci95[0] > 0 ? 'beats' : 'loses';
}

/** A difference x 100 with its sign: +1.23, -0.40; '-' when undefined. */
export function signedPoints(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  const s = (100 * v).toFixed(2);
  return v > 0 && s !== '0.00' ? `+${s}` : s === '-0.00' ? '0.00' : s;
}

/** [lo, hi] x 100, signed. */
export function signedInterval(ci: Interval | null | undefined): string {
  return ci ? `[${signedPoints(ci[0])}, ${signedPoints(ci[1])}]` : '-';
}

function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The comparisons of one k, in method order. */
export function comparisonsOfK(cs: readonly ReportComparison[], k: number): ReportComparison[] {
  return cs.filter((c) => c.k === k);
}

/**
 * One line for the comparisons of one k: "Beyond noise: A beats average; B and C lose to
 * average. Within noise: D." (or that none differs).
 */
export function noiseLine(cs: readonly ReportComparison[]): string {
  if (!cs.length) return 'No method was compared with average.';
  const by = (s: Standing) => cs.filter((c) => standing(c) === s).map((c) => c.method);
  const beats = by('beats');
  const loses = by('loses');
  const within = by('within noise');
  if (!beats.length && !loses.length)
    return `No method differs from average beyond noise (every 95% interval of the difference contains 0).`;
  const parts: string[] = [];
  if (beats.length) parts.push(`${list(beats)} ${beats.length === 1 ? 'beats' : 'beat'} average`);
  if (loses.length) parts.push(`${list(loses)} ${loses.length === 1 ? 'loses' : 'lose'} to average`);
  let line = `Beyond noise: ${parts.join('; ')}.`;
  if (within.length) line += ` Within noise: ${list(within)}.`;
  return line;
}

/**
 * One sentence over every k: each method that beats or loses to average beyond noise, with the
 * k and the difference in points, then the methods within noise of it everywhere.
 */
export function verdict(cs: readonly ReportComparison[]): string {
  if (!cs.length) return 'No method was compared with average (the run has no average merges).';
  const methods = [...new Set(cs.map((c) => c.method))];
  const at = (xs: ReportComparison[]) =>
    xs.map((c) => `${signedPoints(c.delta)} points with ${c.k} tasks merged`).join(', ');
  const parts: string[] = [];
  const within: string[] = [];
  for (const m of methods) {
    const mine = cs.filter((c) => c.method === m);
    const beats = mine.filter((c) => standing(c) === 'beats');
    const loses = mine.filter((c) => standing(c) === 'loses');
    if (!beats.length && !loses.length) within.push(m);
    else if (beats.length && loses.length)
      parts.push(`${m} beats average (${at(beats)}) but loses to it (${at(loses)})`);
    else if (beats.length) parts.push(`${m} beats average (${at(beats)})`);
    else parts.push(`${m} loses to average (${at(loses)})`);
  }
  if (!parts.length)
    return `No method differs from average beyond noise: every 95% paired-bootstrap interval of the difference contains 0 (${list(within)}).`;
  const tail = within.length
    ? `; ${list(within)} ${within.length === 1 ? 'is' : 'are'} within noise of it`
    : '';
  return `Beyond noise (95% paired bootstrap over the evaluation examples), ${parts.join('; ')}${tail}.`;
}
