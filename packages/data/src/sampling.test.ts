import { describe, expect, it } from 'vitest';
import { Rng } from '@fmn/testkit';
import { sampleExamples, sampleIndices } from './sampling.js';

describe('sampling (METHOD.md section 3)', () => {
  it("'all' keeps file order", () => {
    expect(sampleExamples(['a', 'b', 'c', 'd'], 'all')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    expect(sampleIndices(100, 10, 0)).toEqual(sampleIndices(100, 10, 0));
    expect(sampleIndices(100, 10)).toEqual(sampleIndices(100, 10, 0));
    expect(sampleIndices(100, 10, 1)).not.toEqual(sampleIndices(100, 10, 0));
  });

  it('draws distinct examples; N >= n takes all of them, shuffled', () => {
    const s = sampleIndices(50, 20, 3);
    expect(new Set(s).size).toBe(20);
    expect(s.every((i) => i >= 0 && i < 50)).toBe(true);
    const all = sampleIndices(10, 128, 0);
    expect([...all].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is the documented partial Fisher-Yates over mulberry32 (replayed with testkit Rng)', () => {
    // testkit's Rng is an independent mulberry32 implementation (identical for seeds != 0)
    const seed = 7;
    const rng = new Rng(seed);
    const idx = Array.from({ length: 30 }, (_, i) => i);
    for (let i = 0; i < 5; i++) {
      const j = i + Math.floor(rng.next() * (30 - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    expect(sampleIndices(30, 5, seed)).toEqual(idx.slice(0, 5));
  });

  it('chooses each example about equally often over seeds', () => {
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 3000; seed++) for (const i of sampleIndices(10, 3, seed)) counts[i]!++;
    // expected 900 each, standard deviation about 25
    for (const c of counts) expect(Math.abs(c - 900)).toBeLessThan(125);
  });

  it('rejects a bad sample count', () => {
    expect(() => sampleIndices(10, 0)).toThrow(/positive integer/);
    expect(() => sampleIndices(10, 2.5)).toThrow(/positive integer/);
  });
});
