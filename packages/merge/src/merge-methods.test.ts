/** The other built-in methods end to end: average, fisher, task-arithmetic, ties, dare (+ ties), hand-computed. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFakeFullFisher } from '../test/fake.js';
import { constant, encoderNames, model, readOut, root, run } from '../test/harness.js';
import { dareRng } from './taskvectors.js';

describe('other methods', () => {
  it('average: plain and with lambdas', async () => {
    const a = await model('a', { values: constant(2) });
    const b = await model('b', { values: constant(6) });
    const { out } = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] });
    for (const name of encoderNames) expect((await readOut(join(out, 'a'))).get(name)!.values[0]).toBe(4);
    const { out: out2, report } = await run({
      method: 'average',
      out: join(root, 'out2'),
      models: [
        { dir: a.dir, lambda: 1 },
        { dir: b.dir, lambda: 3 },
      ],
    });
    const got = await readOut(join(out2, 'b'));
    for (const name of encoderNames) expect([...new Set(got.get(name)!.values)]).toEqual([5]); // (2 + 18) / 4
    expect(report.shares['layer 0']).toEqual([0.25, 0.75]);
  });

  it('fisher (full diagonal): W = F + 1e-6; a Fisher 0 everywhere in both models gives the plain average', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(1) });
    const fa = join(root, 'fa.safetensors');
    const fb = join(root, 'fb.safetensors');
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n));
    await writeFakeFullFisher(fb, (name, n) => new Float32Array(n).fill(name === 'pooler.weight' ? 0 : 1));
    const { out, report } = await run({
      method: 'fisher',
      models: [
        { dir: a.dir, fisher: fa },
        { dir: b.dir, fisher: fb },
      ],
    });
    const got = await readOut(join(out, 'a'));
    const expected = Math.fround((1 + 1e-6) / (1 + 2e-6));
    expect(got.get('layer.0.q.weight')!.values[0]).toBe(expected);
    expect(got.get('layer.0.q.weight')!.values[0]).toBeLessThan(1);
    expect(got.get('pooler.weight')!.values[0]).toBe(0.5);
    expect(report.fisherFloor).toBe(1e-6);
  });

  it('task-arithmetic: base + scale * sum_j lambda_j (theta_j - base); heads kept', async () => {
    const base = await model('base', { values: constant(1), labels: 4 });
    const a = await model('a', { values: constant(2) });
    const b = await model('b', { values: constant(4), labels: 3 });
    const { out, report } = await run({
      method: 'task-arithmetic',
      base: base.dir,
      options: { scale: 0.5 },
      models: [{ dir: a.dir }, { dir: b.dir, lambda: 0.5 }],
    });
    const got = await readOut(join(out, 'b'));
    for (const name of encoderNames)
      expect([...new Set(got.get(name)!.values)]).toEqual([1 + 0.5 * (1 + 0.5 * 3)]);
    expect(got.get('head.weight')!.values.length).toBe(3 * 4);
    expect([...new Set(got.get('head.weight')!.values)]).toEqual([4]);
    expect([...new Set((await readOut(join(out, 'a'))).get('head.bias')!.values)]).toEqual([2]);
    // |contributions|: a 1 per entry, b 0.5 * 3 = 1.5 per entry
    expect(report.shares.all[0]).toBeCloseTo(0.4, 12);
  });

  it('ties: the top-k% trim is over each whole task vector, then sign election and disjoint mean', async () => {
    // 302 encoder entries. Task vector a: 0.01 everywhere but 5 in layer.0.q.weight (16 entries);
    // b: -0.02 everywhere but -3 in layer.0.k.weight. k = 5: keep = floor(302 * 5 / 100) = 15,
    // threshold = the 287th smallest magnitude = 5 (a) and 3 (b): only those 16 entries survive.
    const base = await model('base', { values: constant(0) });
    const a = await model('a', { values: (n, s) => constant(n === 'layer.0.q.weight' ? 5 : 0.01)(n, s) });
    const b = await model('b', { values: (n, s) => constant(n === 'layer.0.k.weight' ? -3 : -0.02)(n, s) });
    const { out, report } = await run({
      method: 'ties',
      base: base.dir,
      options: { k: 5, scale: 2 },
      models: [{ dir: a.dir }, { dir: b.dir }],
    });
    // elected signs: +1 on q (16), -1 on k (16), 0 elsewhere: they sum to 0, so the majority sign is 0
    expect(report.ties).toEqual({ k: 5, thresholds: [5, 3], majoritySign: 0 });
    const got = await readOut(join(out, 'a'));
    for (const name of encoderNames) {
      const want = name === 'layer.0.q.weight' ? 10 : name === 'layer.0.k.weight' ? -6 : 0;
      expect([...new Set(got.get(name)!.values)], name).toEqual([want]);
    }
    expect(report.shares['layer 0'][0]).toBeCloseTo(80 / 128, 12);
    expect(report.shares['layer 1']).toEqual([null, null]);
  });

  it('dare: drop with p, rescale by 1/(1-p), then task arithmetic; seeded', async () => {
    const base = await model('base', { values: constant(0) });
    const a = await model('a', { values: constant(1) });
    const b = await model('b', { values: constant(1) });
    const opts = {
      method: 'dare' as const,
      base: base.dir,
      options: { p: 0.5, seed: 11 },
      models: [{ dir: a.dir }, { dir: b.dir }],
    };
    const { out } = await run(opts);
    const got = await readOut(join(out, 'a'));
    for (const name of encoderNames) {
      const ra = dareRng(11, 0, name);
      const rb = dareRng(11, 1, name);
      got.get(name)!.values.forEach((v) => {
        const keptA = ra.next() >= 0.5 ? 1 : 0;
        const keptB = rb.next() >= 0.5 ? 1 : 0;
        expect(v).toBe(2 * keptA + 2 * keptB);
      });
    }
    const { out: out2 } = await run({ ...opts, out: join(root, 'again') });
    expect(await readFile(join(out2, 'a', 'model.safetensors'))).toEqual(
      await readFile(join(out, 'a', 'model.safetensors')),
    );
    const { out: out3 } = await run({ ...opts, options: { p: 0.5, seed: 12 }, out: join(root, 'other') });
    expect(await readFile(join(out3, 'a', 'model.safetensors'))).not.toEqual(
      await readFile(join(out, 'a', 'model.safetensors')),
    );
  });

  it('dare + ties: survivors agree in sign, so the disjoint mean is 2 where any survives', async () => {
    const base = await model('base', { values: constant(0) });
    const a = await model('a', { values: constant(1) });
    const b = await model('b', { values: constant(1) });
    const { out, report } = await run({
      method: 'dare',
      base: base.dir,
      options: { p: 0.5, seed: 5, ties: true, k: 100 },
      models: [{ dir: a.dir }, { dir: b.dir }],
    });
    expect(report.dare).toEqual({ p: 0.5, seed: 5, ties: true });
    const got = await readOut(join(out, 'a'));
    for (const name of encoderNames) {
      const ra = dareRng(5, 0, name);
      const rb = dareRng(5, 1, name);
      got.get(name)!.values.forEach((v) => {
        const any = (ra.next() >= 0.5 ? 1 : 0) + (rb.next() >= 0.5 ? 1 : 0) > 0;
        expect(v).toBe(any ? 2 : 0);
      });
    }
  });
});
