import { describe, expect, it } from 'vitest';
import { isFmnError } from '../errors.js';
import { PickleTruncated, PyDict, PyTuple, unpickle, type PyGlobal } from './pickle.js';

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

const none = new Map<string, PyGlobal>();

describe('restricted unpickler', () => {
  it('decodes ints, longs, floats, strings, tuples, lists, dicts and the memo', () => {
    // {'a': (1, -2, 300, 2**70, 1.5, None, True), 'b': [x, x]} with x memoized
    const p = bytes(
      [0x80, 2, 0x7d, 0x71, 0, 0x28],
      [0x58, 1, 0, 0, 0],
      'a',
      [0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 0x01],
      [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40],
      [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
      [0x4e, 0x88, 0x74],
      [0x8c, 1],
      'b',
      [0x5d, 0x8c, 1],
      'x',
      [0x71, 1, 0x61, 0x68, 1, 0x61],
      [0x75, 0x2e],
    );
    const { value, end } = unpickle(p, { file: 'f', globals: none });
    expect(end).toBe(p.length);
    expect(value).toBeInstanceOf(PyDict);
    const d = (value as PyDict).map;
    expect((d.get('a') as PyTuple).items).toEqual([1, -2, 300, 2n ** 70n, 1.5, null, true]);
    expect(d.get('b')).toEqual(['x', 'x']);
  });

  it('refuses a global that is not allow-listed as soon as it is met, naming the file and the global', () => {
    const p = bytes([0x80, 2], 'cos\nsystem\n', [0x58, 2, 0, 0, 0], 'ls', [0x85, 0x52, 0x2e]);
    try {
      unpickle(p, { file: '/x/model.bin', globals: none });
      expect.unreachable();
    } catch (e) {
      expect(isFmnError(e)).toBe(true);
      expect((e as Error).message).toMatch(/^\/x\/model\.bin: refusing to load: .*"os\.system"/);
    }
  });

  it('refuses STACK_GLOBAL to a global not allowed (builtins.eval)', () => {
    const p = bytes([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93, 0x2e]);
    expect(() => unpickle(p, { file: 'f', globals: none })).toThrow(/"builtins\.eval"/);
  });

  it('calls only the allow-listed stand-in on REDUCE', () => {
    const calls: unknown[] = [];
    const globals = new Map<string, PyGlobal>([
      ['m.f', { module: 'm', name: 'f', call: (a) => (calls.push(a), 'made') }],
    ]);
    const p = bytes([0x80, 2], 'cm\nf\n', [0x4b, 7, 0x85, 0x52, 0x2e]);
    expect(unpickle(p, { file: 'f', globals }).value).toBe('made');
    expect(calls).toEqual([[7]]);
  });

  it('refuses opcodes state dicts do not use (INST, OBJ, EXT1)', () => {
    for (const op of [0x69, 0x6f, 0x82]) {
      expect(() => unpickle(bytes([0x80, 2, 0x28, op, 0x2e]), { file: 'f', globals: none })).toThrow(
        /opcode 0x[0-9a-f]{2} is not allowed/,
      );
    }
  });

  it('refuses BUILD on objects that take no state, and REDUCE of a non-callable', () => {
    expect(() => unpickle(bytes([0x80, 2, 0x7d, 0x7d, 0x62, 0x2e]), { file: 'f', globals: none })).toThrow(
      /BUILD on an object that allows no state/,
    );
    expect(() => unpickle(bytes([0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e]), { file: 'f', globals: none })).toThrow(
      /REDUCE on something that is not an allowed callable/,
    );
  });

  it('reports a pickle that ends before STOP as truncated', () => {
    expect(() => unpickle(bytes([0x80, 2, 0x58, 9, 0, 0, 0], 'ab'), { file: 'f', globals: none })).toThrow(
      PickleTruncated,
    );
  });

  it('refuses a string length beyond the limit before allocating', () => {
    expect(() =>
      unpickle(bytes([0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 1]), { file: 'f', globals: none }),
    ).toThrow(/above the limit/);
  });
});
