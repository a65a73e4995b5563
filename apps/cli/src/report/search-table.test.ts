import { describe, expect, it } from 'vitest';
import { searchCells } from './cells.js';
import type { Report } from './types.js';

describe('searchCells', () => {
  it('one row per searched merge: kind, chosen coefficients, held-out score x 100, candidates', () => {
    const search = (kind: 'scale' | 'lambdas', coefficients: number[], mean: number, n: number) => ({
      kind,
      objective: '',
      tieBreak: '',
      seed: 0,
      tasks: [],
      candidates: Array.from({ length: n }, () => ({ coefficients, scores: {}, mean, distance: 0 })),
      chosen: { index: 0, coefficients, mean },
    });
    const r = {
      merges: [
        { method: 'average', tasks: ['a', 'b'], scores: {}, seconds: 0 },
        {
          method: 'average (searched)',
          tasks: ['a', 'b'],
          scores: {},
          seconds: 0,
          search: search('lambdas', [0.3, 0.7], 0.6125, 11),
        },
        {
          method: 'ties (searched)',
          tasks: ['a', 'b'],
          scores: {},
          seconds: 0,
          search: search('scale', [1.2], 0.5, 15),
        },
      ],
    } as unknown as Report;
    expect(searchCells(r)).toEqual([
      ['average (searched)', 'a + b', 'lambda per model', '0.3, 0.7', '61.25', '11'],
      ['ties (searched)', 'a + b', 'scale', '1.2', '50.00', '15'],
    ]);
  });
});
