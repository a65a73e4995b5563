import { describe, expect, it } from 'vitest';
import { sampleIndices } from '@fmn/data';
import { fineTuningRows, heldOutGroups, heldOutRows } from './held-out.js';

describe('held-out train rows', () => {
  it('holds out round(fraction * n) distinct rows, ascending, and fine-tunes on exactly the others', () => {
    const h = heldOutRows(1000, 0.15, 1);
    expect(h.rows).toHaveLength(150);
    expect(new Set(h.rows).size).toBe(150);
    expect(
      h.rows.every((r, i) => Number.isInteger(r) && r >= 0 && r < 1000 && (i === 0 || r > h.rows[i - 1])),
    ).toBe(true);
    const rest = fineTuningRows(1000, h);
    expect(rest).toHaveLength(850);
    expect(new Set([...rest, ...h.rows]).size).toBe(1000);
    expect(rest.some((r) => h.rows.includes(r))).toBe(false);
  });

  it('is the draw of @fmn/data sampleIndices with the recorded seed (what a reader can recompute)', () => {
    const h = heldOutRows(40, 0.25, 7);
    expect(h).toEqual({ fraction: 0.25, seed: 7, rows: sampleIndices(40, 10, 7).sort((a, b) => a - b) });
    expect(heldOutRows(40, 0.25, 8).rows).not.toEqual(h.rows);
  });

  it('refuses a fraction outside (0, 1) or one that leaves no row on either side', () => {
    expect(() => heldOutRows(100, 0, 1)).toThrow('held-out fraction must be in (0, 1), got 0');
    expect(() => heldOutRows(100, 1, 1)).toThrow('got 1');
    expect(() => heldOutRows(3, 0.1, 1)).toThrow('would be 0 rows');
  });
});

describe('held-out train rows drawn by shared text', () => {
  // pairs of entries; entries recur across rows, as in nli's train split
  const entries = Array.from({ length: 60 }, (_, i) => `entry ${i}: a definition`);
  const texts = Array.from({ length: 200 }, (_, i) => [entries[(i * 7) % 60], entries[(i * 13 + 5) % 60]]);
  const chains = Array.from({ length: 200 }, (_, i) => [`a${Math.floor(i / 4)}`, `b${i}`]);

  it('never shows a text on both sides, and holds out at least round(fraction * n) rows', () => {
    for (const [t, seed] of [
      [chains, 1],
      [chains, 2],
      [texts.slice(0, 40).concat(chains.slice(40)), 3],
    ] as const) {
      const h = heldOutGroups(t, 0.15, seed);
      expect(h.by).toBe('shared-text');
      expect(h.rows.length).toBeGreaterThanOrEqual(30);
      // every group of `chains` has 4 rows; `texts`' first 40 rows may join into bigger ones
      expect(h.rows.length).toBeLessThan(30 + 41);
      const held = new Set(h.rows.flatMap((r) => [...t[r]]));
      const tuned = fineTuningRows(t.length, h).flatMap((r) => [...t[r]]);
      expect(tuned.filter((x) => held.has(x))).toEqual([]);
      expect(h.rows.every((r, i) => i === 0 || r > h.rows[i - 1])).toBe(true);
    }
  });

  it('takes whole groups: chains of 4 rows sharing a text are held out together', () => {
    const h = heldOutGroups(chains, 0.15, 1);
    expect(h.rows.length % 4).toBe(0);
    const starts = h.rows.filter((r) => r % 4 === 0);
    expect(h.rows).toEqual(starts.flatMap((r) => [r, r + 1, r + 2, r + 3]));
  });

  it('with every text distinct, it draws the rows heldOutRows draws (the first zoo builds)', () => {
    const distinct = Array.from({ length: 100 }, (_, i) => [`sentence ${i}`]);
    const h = heldOutGroups(distinct, 0.2, 5);
    expect(h.rows).toEqual(
      sampleIndices(100, 100, 5)
        .slice(0, 20)
        .sort((a, b) => a - b),
    );
    expect(h.rows).toEqual(heldOutRows(100, 0.2, 5).rows);
    expect(heldOutGroups(distinct, 0.2, 6).rows).not.toEqual(h.rows);
  });

  it('refuses a draw that would leave no row to fine-tune on', () => {
    const one = Array.from({ length: 10 }, () => ['the same text']);
    expect(() => heldOutGroups(one, 0.3, 1)).toThrow('leave no fine-tuning row');
    expect(() => heldOutGroups(one, 0, 1)).toThrow('held-out fraction must be in (0, 1), got 0');
  });
});
