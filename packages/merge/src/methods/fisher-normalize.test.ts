/**
 * --fisher-normalize mean (METHOD.md 5.5), an option of fisher-nodes and fisher that lives in
 * ./fisher-normalize.ts: hand-computed merges on the fake architecture.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFakeFullFisher } from '../../test/fake.js';
import {
  constant,
  encoderNames,
  expectFmnError,
  maskFisher,
  model,
  readOut,
  root,
  run,
} from '../../test/harness.js';
import { mergeMethod } from './registry.js';

describe('--fisher-normalize mean', () => {
  // model a all 0, model b all 1: a merged entry is W_b / (W_a + W_b)
  it('fisher-nodes: head Fisher divided by its mean over [L, H], neuron by its mean over [L, I], before the zero rule', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(1) });
    // a: head mean 2.5 -> [[0.4, 0.8], [1.2, 1.6]]; neuron mean 3.5 -> [[2/7, 4/7, 6/7], [8/7, 10/7, 12/7]]
    // b: head mean 1.5 -> [[4/3, 4/3], [2/3, 2/3]]; neuron mean 1.5 -> [[2/3, 2/3, 2/3], [4/3, 4/3, 4/3]]
    const models = [
      {
        dir: a.dir,
        fisher: await maskFisher(
          'a',
          [
            [1, 2],
            [3, 4],
          ],
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
        ),
      },
      {
        dir: b.dir,
        fisher: await maskFisher(
          'b',
          [
            [2, 2],
            [1, 1],
          ],
          [
            [1, 1, 1],
            [2, 2, 2],
          ],
        ),
      },
    ];
    const { out, report } = await run({
      method: 'fisher-nodes',
      models,
      options: { fisherNormalize: 'mean' },
    });
    const got = await readOut(join(out, 'a'));
    // layer 0 query rows of head 0 (rows 0-1) and head 1 (rows 2-3), head size 2, hidden 4
    const h0 = 4 / 3 / (0.4 + 4 / 3); // 10/13
    const h1 = 4 / 3 / (0.8 + 4 / 3); // 5/8
    const q = got.get('layer.0.q.weight')!.values;
    [h0, h0, h1, h1].forEach((w, r) => {
      for (let c = 0; c < 4; c++) expect(q[r * 4 + c]).toBeCloseTo(w, 6);
    });
    // layer 1 ffn1 rows per neuron: (4/3) / (8/7 + 4/3), (4/3) / (10/7 + 4/3), (4/3) / (12/7 + 4/3)
    const f = got.get('layer.1.ffn1.weight')!.values;
    [8 / 7, 10 / 7, 12 / 7].forEach((wa, r) => {
      for (let c = 0; c < 4; c++) expect(f[r * 4 + c]).toBeCloseTo(4 / 3 / (wa + 4 / 3), 6);
    });
    expect(report.fisherNormalize).toBe('mean');
    // the same Fishers without normalisation: 2 / (1 + 2) for head 0 of layer 0
    const plain = await run({ method: 'fisher-nodes', models, out: join(root, 'plain') });
    expect((await readOut(join(plain.out, 'a'))).get('layer.0.q.weight')!.values[0]).toBeCloseTo(2 / 3, 6);
    expect(plain.report.fisherNormalize).toBeUndefined();
  });

  it('fisher (full): each Fisher divided by its mean over the merged entries, then the floor', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(1) });
    const fa = join(root, 'fa.st');
    const fb = join(root, 'fb.st');
    // a: 1 everywhere; b: 3 everywhere (its head tensors 100, which are not merged and not in the mean)
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n).fill(1));
    await writeFakeFullFisher(fb, (name, n) => new Float32Array(n).fill(name.startsWith('head.') ? 100 : 3));
    const models = [
      { dir: a.dir, fisher: fa },
      { dir: b.dir, fisher: fb },
    ];
    const norm = await run({ method: 'fisher', models, options: { fisherNormalize: 'mean' } });
    // both normalise to 1: (1 + 1e-6) / (2 + 2e-6) = 0.5
    const merged = await readOut(join(norm.out, 'a'));
    for (const name of encoderNames) {
      expect(
        [...merged.get(name)!.values].every((v) => Math.abs(v - 0.5) < 1e-7),
        name,
      ).toBe(true);
    }
    const plain = await run({ method: 'fisher', models, out: join(root, 'plain') });
    expect((await readOut(join(plain.out, 'a'))).get('emb.word')!.values[0]).toBeCloseTo(0.75, 6);
  });

  it('a Fisher whose mean is 0 is an error naming the file', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const zero = await maskFisher(
      'zero',
      [
        [0, 0],
        [0, 0],
      ],
      [
        [1, 1, 1],
        [1, 1, 1],
      ],
    );
    const e = await expectFmnError(
      run({
        method: 'fisher-nodes',
        options: { fisherNormalize: 'mean' },
        models: [
          {
            dir: a.dir,
            fisher: await maskFisher(
              'ok',
              [
                [1, 1],
                [1, 1],
              ],
              [
                [1, 1, 1],
                [1, 1, 1],
              ],
            ),
          },
          { dir: b.dir, fisher: zero },
        ],
      }),
      /the head Fisher of model 2 has mean 0/,
    );
    expect(e.message).toContain('zero.fisher.safetensors');
  });

  it('is declared once, in one file, by both Fisher methods (a shared --fisher-normalize flag)', () => {
    for (const m of ['fisher-nodes', 'fisher']) {
      const o = mergeMethod(m).options.find((x) => x.key === 'fisherNormalize')!;
      expect(o.flag).toBe('--fisher-normalize');
      expect(o.default).toBe('none');
    }
    expect(mergeMethod('fisher-nodes').label!({ mapping: 'block', fisherNormalize: 'mean' })).toBe(
      'fisher-nodes (block, mean-normalised)',
    );
  });
});
