/** fisher-nodes end to end (METHOD.md 5.1 / 5.2 on the fake architecture): the weights table, identities, the zero rule, lambdas. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  constant,
  encoderNames,
  HEAD_A,
  HEAD_B,
  maskFisher,
  model,
  NEURON_A,
  NEURON_B,
  readOut,
  root,
  run,
} from '../test/harness.js';

describe('fisher-nodes: the 5.1 / 5.2 weights end to end', () => {
  // Model a is all 0, model b all 1: every merged entry is W_b / (W_a + W_b).
  // Fisher a: head means 1.5 (layer 0), 3.5 (layer 1); neuron means 2, 5; universal 6.
  // Fisher b: head means 2, 1; neuron means 1, 2; universal ((2 + 1) + (1 + 2)) / 2 = 3.
  const rows = (r: number[], C: number) => r.flatMap((v) => new Array<number>(C).fill(v));
  const cols = (R: number, c: number[]) => Array.from({ length: R }, () => c).flat();
  const fill = (n: number, v: number) => new Array<number>(n).fill(v);
  const expected: Record<'paper' | 'block', Record<string, number[]>> = {
    paper: {
      'layer.0.q.weight': rows([2 / 3, 2 / 3, 2 / 4, 2 / 4], 4),
      'layer.1.k.bias': [1 / 4, 1 / 4, 1 / 5, 1 / 5],
      'layer.1.v.weight': fill(16, 1 / 4.5),
      'layer.0.o.weight': fill(16, 2 / 3.5),
      'layer.0.o.bias': fill(4, 2 / 3.5),
      'layer.1.ln1.weight': fill(4, 1 / 4.5),
      'layer.0.ffn1.weight': rows([1 / 2, 1 / 3, 1 / 4], 4),
      'layer.1.ffn1.bias': [2 / 6, 2 / 7, 2 / 8],
      'layer.1.ffn2.weight': fill(12, 2 / 7),
      'layer.0.ffn2.bias': fill(4, 1 / 3),
      'layer.0.ln2.bias': fill(4, 1 / 3),
      'emb.word': fill(20, 1 / 3),
      'emb.norm.bias': fill(4, 1 / 3),
      'pooler.weight': fill(16, 1 / 3),
    },
    block: {
      'layer.0.q.weight': rows([2 / 3, 2 / 3, 2 / 4, 2 / 4], 4),
      'layer.1.v.weight': rows([1 / 4, 1 / 4, 1 / 5, 1 / 5], 4),
      'layer.1.v.bias': [1 / 4, 1 / 4, 1 / 5, 1 / 5],
      'layer.1.o.weight': cols(4, [1 / 4, 1 / 4, 1 / 5, 1 / 5]),
      'layer.1.o.bias': fill(4, 1 / 4.5),
      'layer.0.ln1.bias': fill(4, 2 / 3.5),
      'layer.0.ffn2.weight': cols(4, [1 / 2, 1 / 3, 1 / 4]),
      'layer.0.ffn2.bias': fill(4, 1 / 3),
      'layer.1.ln2.weight': fill(4, 2 / 7),
      'emb.word': fill(20, 1 / 3),
      'pooler.bias': fill(4, 1 / 3),
    },
  };

  for (const mapping of ['paper', 'block'] as const) {
    it(`${mapping}: every row of the table, and each output keeps its own head`, async () => {
      const a = await model('a', { values: constant(0) });
      const b = await model('b', { values: constant(1) });
      const { out, report } = await run({
        method: 'fisher-nodes',
        options: { mapping },
        models: [
          { dir: a.dir, fisher: await maskFisher('a', HEAD_A, NEURON_A) },
          { dir: b.dir, fisher: await maskFisher('b', HEAD_B, NEURON_B) },
        ],
      });
      const outA = await readOut(join(out, 'a'));
      const outB = await readOut(join(out, 'b'));
      for (const [name, want] of Object.entries(expected[mapping])) {
        const got = outA.get(name)!.values;
        expect(got.length, name).toBe(want.length);
        got.forEach((v, i) => expect(v, `${name}[${i}]`).toBeCloseTo(want[i], 6));
        expect([...outB.get(name)!.values], name).toEqual([...got]);
      }
      expect([...outA.get('head.weight')!.values].every((v) => v === 0)).toBe(true);
      expect([...outB.get('head.weight')!.values].every((v) => v === 1)).toBe(true);
      expect(report.method).toBe('fisher-nodes');
      expect(report.mapping).toBe(mapping);
      expect(report.zeroRule).toEqual({ head: 0, neuron: 0 });
      expect(report.lambdas).toEqual([1, 1]);
      const fisherB = join(root, 'b.fisher.safetensors');
      expect(report.inputs[1].fisher).toEqual({
        file: fisherB,
        sha256: createHash('sha256')
          .update(await readFile(fisherB))
          .digest('hex'),
      });
    });
  }
});

describe('fisher-nodes: identities', () => {
  it('equal Fishers give the plain average', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const fa = await maskFisher('a', HEAD_A, NEURON_A);
    const fb = await maskFisher('b', HEAD_A, NEURON_A);
    const { out, report } = await run({
      method: 'fisher-nodes',
      models: [
        { dir: a.dir, fisher: fa },
        { dir: b.dir, fisher: fb },
      ],
    });
    const got = await readOut(join(out, 'a'));
    for (const name of encoderNames) {
      const va = a.values.get(name)!;
      const vb = b.values.get(name)!;
      got.get(name)!.values.forEach((v, i) => expect(v).toBeCloseTo((va[i] + vb[i]) / 2, 6));
    }
    for (const s of Object.values(report.shares)) {
      expect(s[0]).toBeCloseTo(0.5, 12);
      expect(s[1]).toBeCloseTo(0.5, 12);
    }
  });

  it('a head whose Fisher is 0 in one model goes wholly to the other (paper: q, k; block: also v rows and o columns)', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const fa = await maskFisher(
      'a',
      [
        [0, 2],
        [3, 4],
      ],
      NEURON_A,
    );
    const fb = await maskFisher(
      'b',
      [
        [5, 2],
        [3, 4],
      ],
      NEURON_A,
    );
    for (const mapping of ['paper', 'block'] as const) {
      const out = join(root, `out-${mapping}`);
      await run({
        method: 'fisher-nodes',
        options: { mapping },
        out,
        models: [
          { dir: a.dir, fisher: fa },
          { dir: b.dir, fisher: fb },
        ],
      });
      const got = await readOut(join(out, 'a'));
      // head 0 of layer 0 = rows (or columns) 0 and 1
      const rowsOf = (name: string) => [...got.get(name)!.values.subarray(0, 8)];
      const bRows = (name: string) => [...b.values.get(name)!.subarray(0, 8)];
      expect(rowsOf('layer.0.q.weight')).toEqual(bRows('layer.0.q.weight'));
      expect(rowsOf('layer.0.k.weight')).toEqual(bRows('layer.0.k.weight'));
      expect([...got.get('layer.0.q.bias')!.values.subarray(0, 2)]).toEqual([
        ...b.values.get('layer.0.q.bias')!.subarray(0, 2),
      ]);
      const vSame = rowsOf('layer.0.v.weight').every((v, i) => v === bRows('layer.0.v.weight')[i]);
      expect(vSame).toBe(mapping === 'block');
      if (mapping === 'block') {
        const o = got.get('layer.0.o.weight')!.values;
        const ob = b.values.get('layer.0.o.weight')!;
        for (let r = 0; r < 4; r++) for (const c of [0, 1]) expect(o[r * 4 + c]).toBe(ob[r * 4 + c]);
      }
      // head 1 is shared: not equal to b
      expect([...got.get('layer.0.q.weight')!.values.subarray(8)]).not.toEqual([
        ...b.values.get('layer.0.q.weight')!.subarray(8),
      ]);
    }
  });

  it("scaling every model's Fisher by one factor changes nothing", async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const s = (m: number[][], f: number) => m.map((r) => r.map((v) => v * f));
    const outs: Map<string, { values: Float32Array }>[] = [];
    for (const factor of [1, 1000]) {
      const out = join(root, `out-${factor}`);
      await run({
        method: 'fisher-nodes',
        options: { mapping: 'block' },
        out,
        models: [
          { dir: a.dir, fisher: await maskFisher(`a${factor}`, s(HEAD_A, factor), s(NEURON_A, factor)) },
          {
            dir: b.dir,
            fisher: await maskFisher(
              `b${factor}`,
              s(
                [
                  [0, 1],
                  [7, 2],
                ],
                factor,
              ),
              s(NEURON_B, factor),
            ),
          },
        ],
      });
      outs.push(await readOut(join(out, 'b')));
    }
    for (const name of encoderNames) {
      const x = outs[0].get(name)!.values;
      outs[1].get(name)!.values.forEach((v, i) => expect(v).toBeCloseTo(x[i], 5));
    }
  });

  it('the zero rule: an entry 0 in every model becomes 1 in every model before the weights are built', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    // head (0, 0) is 0 in both -> 1 in both; head (0, 1) is 0 in a only.
    const { out, report } = await run({
      method: 'fisher-nodes',
      models: [
        {
          dir: a.dir,
          fisher: await maskFisher(
            'a',
            [
              [0, 0],
              [1, 1],
            ],
            NEURON_A,
          ),
        },
        {
          dir: b.dir,
          fisher: await maskFisher(
            'b',
            [
              [0, 4],
              [1, 1],
            ],
            NEURON_A,
          ),
        },
      ],
    });
    expect(report.zeroRule).toEqual({ head: 1, neuron: 0 });
    const got = await readOut(join(out, 'a'));
    const q = got.get('layer.0.q.weight')!.values;
    const qa = a.values.get('layer.0.q.weight')!;
    const qb = b.values.get('layer.0.q.weight')!;
    for (let i = 0; i < 8; i++) expect(q[i]).toBeCloseTo((qa[i] + qb[i]) / 2, 6); // head 0: weights 1 and 1
    for (let i = 8; i < 16; i++) expect(q[i]).toBe(qb[i]); // head 1: weights 0 and 4
    // value (paper: head mean): a (1 + 0) / 2 = 0.5, b (1 + 4) / 2 = 2.5
    const v = got.get('layer.0.v.weight')!.values;
    const va = a.values.get('layer.0.v.weight')!;
    const vb = b.values.get('layer.0.v.weight')!;
    v.forEach((x, i) => expect(x).toBeCloseTo((0.5 * va[i] + 2.5 * vb[i]) / 3, 6));
  });

  it('lambdas weight the models: sum lambda W theta / sum lambda W', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(1) });
    const fa = await maskFisher('a', HEAD_B, NEURON_B);
    const fb = await maskFisher('b', HEAD_B, NEURON_B);
    const { out, report } = await run({
      method: 'fisher-nodes',
      models: [
        { dir: a.dir, fisher: fa, lambda: 1 },
        { dir: b.dir, fisher: fb, lambda: 3 },
      ],
    });
    const got = await readOut(join(out, 'b'));
    for (const name of encoderNames) got.get(name)!.values.forEach((v) => expect(v).toBeCloseTo(0.75, 6));
    expect(report.lambdas).toEqual([1, 3]);
    expect(report.shares.all[1]).toBeCloseTo(0.75, 12);
  });
});
