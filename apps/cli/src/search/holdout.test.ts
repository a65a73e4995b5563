import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { sampleIndices } from '@fmn/data';
import { heldOutIndices, recordedSamples } from './holdout.js';

describe('heldOutIndices', () => {
  it('draws among the examples not excluded, seeded, without repeats', () => {
    const fisher = sampleIndices(100, 30, 0);
    const h = heldOutIndices(100, 40, 0, fisher);
    expect(h).toHaveLength(40);
    expect(new Set(h).size).toBe(40);
    for (const i of h) {
      expect(fisher).not.toContain(i);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(100);
    }
    expect(heldOutIndices(100, 40, 0, fisher)).toEqual(h);
    expect(heldOutIndices(100, 40, 1, fisher)).not.toEqual(h);
  });

  it('hand-checked: excluding 0..7 of 10 leaves 8 and 9', () => {
    expect([...heldOutIndices(10, 5, 3, [0, 1, 2, 3, 4, 5, 6, 7])].sort()).toEqual([8, 9]);
  });

  it('nothing left is an FmnError naming the file', () => {
    const e = (() => {
      try {
        heldOutIndices(3, 2, 0, [0, 1, 2], 'train.tsv');
      } catch (x) {
        return x;
      }
    })();
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toMatch(/no train example is left/);
  });
});

describe('recordedSamples', () => {
  const md = { data_sha256: 'abc', split: 'train', samples: '4', seed: '2' };
  it('the examples a Fisher file of the same data drew', () => {
    expect(recordedSamples(md, 'abc', 20)).toEqual(sampleIndices(20, 4, 2));
    expect(recordedSamples({ ...md, samples: 'all' }, 'abc', 5)).toEqual([0, 1, 2, 3, 4]);
  });
  it('none for other data or another split', () => {
    expect(recordedSamples(md, 'other', 20)).toEqual([]);
    expect(recordedSamples({ ...md, split: 'dev' }, 'abc', 20)).toEqual([]);
  });
});
