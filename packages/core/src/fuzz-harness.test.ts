/** The shared fuzz harness (@fmn/fuzz) on hand-made cases: what it accepts, what it rejects. */
import { describe, expect, it } from 'vitest';
import {
  applyByteMutations,
  applyJsonMutations,
  expectCleanOutcome,
  fuzzSettings,
  toJsonText,
} from '@fmn/fuzz';
import { FmnError } from './errors.js';

describe('@fmn/fuzz harness', () => {
  it('a result or an FmnError naming the file passes; anything else fails', async () => {
    await expectCleanOutcome(() => 1, '/x/a.bin');
    await expectCleanOutcome(() => Promise.reject(new FmnError('bad', '/x/a.bin')), '/x/a.bin');
    await expect(expectCleanOutcome(() => Promise.reject(new FmnError('bad')), '/x/a.bin')).rejects.toThrow(
      'an FmnError that does not name a.bin',
    );
    await expect(
      expectCleanOutcome(() => {
        throw new TypeError('Cannot read properties of undefined');
      }, '/x/a.bin'),
    ).rejects.toThrow('not an FmnError: TypeError');
    await expect(expectCleanOutcome(() => new Promise(() => undefined), '/x/a.bin', 20)).rejects.toThrow(
      'no result or error within 20 ms',
    );
  });

  it('byte mutations do what they say', () => {
    const b = Uint8Array.from([1, 2, 3, 4]);
    expect([...applyByteMutations(b, [{ kind: 'flip', at: 0, mask: 0xff }])]).toEqual([254, 2, 3, 4]);
    expect([...applyByteMutations(b, [{ kind: 'truncate', at: 0.5 }])]).toEqual([1, 2]);
    expect([...applyByteMutations(b, [{ kind: 'insert', at: 0.2, bytes: [9] }])]).toEqual([1, 9, 2, 3, 4]);
    expect([...applyByteMutations(b, [{ kind: 'delete', at: 0.2, length: 2 }])]).toEqual([1, 4]);
    expect([...applyByteMutations(b, [{ kind: 'duplicate', at: 0.2, length: 2 }])]).toEqual([
      1, 2, 3, 2, 3, 4,
    ]);
    expect([...applyByteMutations(b, [{ kind: 'set', at: 0.7, bytes: [7, 7] }])]).toEqual([1, 2, 3, 7]);
    expect([...b]).toEqual([1, 2, 3, 4]);
  });

  it('JSON mutations: replace, delete, add (a "__proto__" key is data), overflowing numbers as text', () => {
    const v = { a: 1, b: [2, 3] };
    // paths in order: [], [a], [b], [b,0], [b,1]
    expect(applyJsonMutations(v, [{ kind: 'replace', pick: 0.2, value: 'x' }])).toEqual({
      a: 'x',
      b: [2, 3],
    });
    expect(applyJsonMutations(v, [{ kind: 'delete', pick: 0.6 }])).toEqual({ a: 1, b: [3] });
    const added = applyJsonMutations(v, [{ kind: 'add', pick: 0, key: '__proto__', value: 5 }]);
    expect(Object.getPrototypeOf(added)).toBe(Object.prototype);
    expect(toJsonText(added)).toContain('"__proto__": 5');
    const huge = applyJsonMutations(v, [{ kind: 'replace', pick: 0.2, value: '\u0000fmn-fuzz:-1e400' }]);
    expect(JSON.parse(toJsonText(huge))).toEqual({ a: -Infinity, b: [2, 3] });
    expect(v).toEqual({ a: 1, b: [2, 3] });
  });

  it('settings: a fixed seed by default, FMN_FUZZ_* when set', () => {
    const saved = { ...process.env };
    try {
      delete process.env.FMN_FUZZ_SEED;
      delete process.env.FMN_FUZZ_RUNS;
      expect(fuzzSettings(50)).toEqual({ seed: 20261206, numRuns: 50, long: false });
      process.env.FMN_FUZZ_SEED = '7';
      process.env.FMN_FUZZ_RUNS = '5000';
      expect(fuzzSettings(50)).toEqual({ seed: 7, numRuns: 5000, long: true });
    } finally {
      process.env = saved;
    }
  });
});
