import { describe, expect, it } from 'vitest';
import { sampleIndices } from '@fmn/data';
import { fineTuningRows, heldOutRows } from './held-out.js';

describe('held-out train rows', () => {
  it('holds out round(fraction * n) distinct rows, ascending, and fine-tunes on exactly the others', () => {
    const h = heldOutRows(1000, 0.15, 1);
    expect(h.rows).toHaveLength(150);
    expect(new Set(h.rows).size).toBe(150);
    expect(
      h.rows.every((r, i) => Number.isInteger(r) && r >= 0 && r < 1000 && (i === 0 || r > h.rows[i - 1])),
    );
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
