import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { listMergeMethods, mergeMethod, mergeMethodNames, registerMergeMethod } from './registry.js';
import { resolveOptions } from './options.js';
import type { MergeMethodSpec } from './spec.js';

const noop: MergeMethodSpec<undefined> = {
  name: 'registry-test-noop',
  description: 'test',
  needs: {},
  options: [],
  shares: { kind: 'mean', definition: 'test' },
  mergeTensor: () => Promise.reject(new Error('not used')),
  report: () => ({}),
};

describe('merge-method registry', () => {
  it('holds the six built-in methods, each declaring what it needs', () => {
    expect(mergeMethodNames().slice(0, 6)).toEqual([
      'fisher-nodes',
      'fisher',
      'average',
      'task-arithmetic',
      'ties',
      'dare',
    ]);
    const needs = Object.fromEntries(listMergeMethods().map((m) => [m.name, m.needs]));
    expect(needs['fisher-nodes']).toEqual({ maskFisher: true });
    expect(needs.fisher).toEqual({ fullFisher: true });
    expect(needs.average).toEqual({});
    for (const m of ['task-arithmetic', 'ties', 'dare']) expect(needs[m]).toEqual({ base: true });
    expect(needs.regmean).toEqual({ gram: true });
  });

  it('an unknown name is an FmnError listing the known ones', () => {
    let e: unknown;
    try {
      mergeMethod('nope');
    } catch (x) {
      e = x;
    }
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /unknown merge method "nope" \(known: fisher-nodes, fisher, average/,
    );
  });

  it('registers a new method once; a duplicate name throws', () => {
    registerMergeMethod(noop);
    expect(mergeMethod('registry-test-noop')).toBe(noop);
    expect(() => registerMergeMethod(noop)).toThrow(/already registered/);
    expect(() => registerMergeMethod({ ...noop, name: 'ties' })).toThrow(/already registered/);
    expect(() => registerMergeMethod({ ...noop, name: 'Bad Name' })).toThrow(/lower-case/);
  });

  it('options: defaults filled in, types and values checked, options of other methods warned about', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(resolveOptions(mergeMethod('dare'), {}, warn)).toEqual({
      p: 0.9,
      seed: 0,
      ties: false,
      k: 20,
      scale: 1,
    });
    expect(resolveOptions(mergeMethod('fisher-nodes'), { mapping: 'block', k: 3 }, warn)).toEqual({
      mapping: 'block',
    });
    expect(warnings).toEqual(['option "k" does not apply to method "fisher-nodes"; ignored']);
    expect(() => resolveOptions(mergeMethod('ties'), { k: '5' }, warn)).toThrow(
      /"k" of method "ties" must be a number/,
    );
    expect(() => resolveOptions(mergeMethod('ties'), { k: 0 }, warn)).toThrow(/top-k/);
    expect(() => resolveOptions(mergeMethod('dare'), { seed: 1.5 }, warn)).toThrow(/seed must be an integer/);
    // TIES' k is checked for dare only with ties on
    expect(resolveOptions(mergeMethod('dare'), { k: 0 }, warn).k).toBe(0);
    expect(() => resolveOptions(mergeMethod('dare'), { k: 0, ties: true }, warn)).toThrow(/top-k/);
    expect(() => resolveOptions(mergeMethod('fisher-nodes'), { mapping: 'rows' }, warn)).toThrow(
      /unknown mapping "rows" \(paper, block\)/,
    );
  });
});
