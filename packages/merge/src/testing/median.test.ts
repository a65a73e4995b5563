/**
 * docs/adding-a-merge-method.md, walked through: the `median` method (./median.ts, one file) is
 * registered and merges through merge() with no other edit; values against a hand computation.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { model, readOut, run } from '../../test/harness.js';
import { mergeMethod, mergeMethodNames, registerMergeMethod } from '../index.js';
import { median } from './median.js';

registerMergeMethod(median);

const constant = (v: number) => (_: string, shape: number[]) =>
  new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v);

describe('a median method in one file', () => {
  it('is registered and known by name', () => {
    expect(mergeMethodNames()).toContain('median');
    expect(mergeMethod('median').options.map((o) => o.flag)).toEqual(['--median-lower']);
  });

  it('three models 0, 1, 5: every merged entry is 1; each model keeps its head; the middle model has every share', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(5) });
    const c = await model('c', { values: constant(1) });
    const { out, report } = await run({
      method: 'median',
      models: [{ dir: a.dir }, { dir: b.dir }, { dir: c.dir }],
    });
    const got = await readOut(join(out, 'a'));
    for (const [name, t] of got) {
      const want = name.startsWith('head.') ? 0 : 1;
      expect(
        [...t.values].every((v) => v === want),
        name,
      ).toBe(true);
    }
    expect(report.method).toBe('median');
    expect(report.median).toEqual({ lower: false });
    expect(report.shares.all).toEqual([0, 0, 1]);
    // version-1 fields it does not set stay null, its own field sits before dtype
    expect(report.ties).toBeNull();
    const keys = Object.keys(report);
    expect(keys.indexOf('median')).toBe(keys.indexOf('dtype') - 1);
  });

  it('two models 2 and 6: the mean of the middle values (4), or with lower the lower one (2)', async () => {
    const a = await model('a', { values: constant(6) });
    const b = await model('b', { values: constant(2) });
    const models = [{ dir: a.dir }, { dir: b.dir }];
    const mean = await run({ method: 'median', models, out: join(a.dir, '..', 'mean') });
    expect([...(await readOut(join(mean.out, 'b'))).get('emb.word')!.values].every((v) => v === 4)).toBe(
      true,
    );
    expect(mean.report.shares.all).toEqual([0.5, 0.5]);
    const low = await run({
      method: 'median',
      models,
      options: { lower: true },
      out: join(a.dir, '..', 'low'),
    });
    expect([...(await readOut(join(low.out, 'b'))).get('emb.word')!.values].every((v) => v === 2)).toBe(true);
    expect(low.report.shares.all).toEqual([0, 1]);
  });

  it('mixed values per entry: hand-computed medians', async () => {
    // entry i of every tensor: a = i, b = 10 - i, c = 3 -> median(i, 10 - i, 3)
    const ramp = (f: (i: number) => number) => (_: string, shape: number[]) =>
      Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, (_, i) => f(i));
    const a = await model('a', { values: ramp((i) => i) });
    const b = await model('b', { values: ramp((i) => 10 - i) });
    const c = await model('c', { values: ramp(() => 3) });
    const { out } = await run({ method: 'median', models: [{ dir: a.dir }, { dir: b.dir }, { dir: c.dir }] });
    // i = 0: (0, 10, 3) -> 3; i = 1: (1, 9, 3) -> 3; i = 4: (4, 6, 3) -> 4; i = 5: (5, 5, 3) -> 5; i = 8: (8, 2, 3) -> 3
    const want = [3, 3, 3, 3, 4, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3];
    expect([...(await readOut(join(out, 'a'))).get('layer.0.q.weight')!.values]).toEqual(want);
  });
});
