import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { linesDataset, textsDataset } from './text-input.js';

function fmnError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isFmnError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an FmnError');
}

describe('texts from the command line and stdin', () => {
  it('--text values, with --text-pair by position or a tab inside', () => {
    expect(textsDataset(['a b', 'c']).examples.map((e) => [e.a, e.b])).toEqual([
      ['a b', undefined],
      ['c', undefined],
    ]);
    const pairs = textsDataset(['q1', 'q2'], ['p1', 'p2']);
    expect(pairs.examples.map((e) => [e.a, e.b])).toEqual([
      ['q1', 'p1'],
      ['q2', 'p2'],
    ]);
    expect(pairs.columns.b).toBeDefined();
    expect(textsDataset(['q\tp']).examples.map((e) => [e.a, e.b])).toEqual([['q', 'p']]);
  });

  it('stdin: one text per non-empty line, a tab for a pair, CRLF accepted', () => {
    const ds = linesDataset('first one\r\n\nsecond\n');
    expect(ds.examples.map((e) => [e.a, e.line])).toEqual([
      ['first one', 1],
      ['second', 3],
    ]);
    expect(linesDataset('a\tb\nc\td\n').examples.map((e) => e.b)).toEqual(['b', 'd']);
  });

  it('mismatched counts, mixed pairs and no text at all are clear errors', () => {
    expect(fmnError(() => textsDataset(['a', 'b'], ['x']))).toMatch(
      /--text-pair: given 1 times for 2 --text/,
    );
    expect(fmnError(() => linesDataset('a\tb\nc\n'))).toMatch(
      /\(stdin\): 1 of 2 texts are sentence pairs .*line 2/,
    );
    expect(fmnError(() => linesDataset('\n \n'))).toMatch(/no texts to predict/);
    expect(fmnError(() => textsDataset(['a\tb'], ['c']))).toMatch(/--text 1 has a tab and a --text-pair/);
  });
});
