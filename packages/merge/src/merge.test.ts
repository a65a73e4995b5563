import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint, isFmnError, type DType } from '@fmn/core';
import {
  fakeAdapterFor,
  fakeShapes,
  writeFakeFullFisher,
  writeFakeMaskFisher,
  writeFakeModel,
  type FakeModelOptions,
} from '../test/fake.js';
import { merge, outputNames, type MergeOptions, type MergeReport } from './index.js';
import { dareRng } from './taskvectors.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const constant = (v: number) => (_: string, shape: number[]) =>
  new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v);
const encoderNames = fakeShapes()
  .map(([n]) => n)
  .filter((n) => !n.startsWith('head.'));

async function model(
  name: string,
  o: FakeModelOptions = {},
): Promise<{ dir: string; values: Map<string, Float32Array> }> {
  const dir = join(root, name);
  return { dir, values: await writeFakeModel(dir, o) };
}

async function maskFisher(name: string, head: number[][], neuron: number[][]): Promise<string> {
  const p = join(root, `${name}.fisher.safetensors`);
  await writeFakeMaskFisher(p, head, neuron);
  return p;
}

type RunOptions = Omit<MergeOptions, 'out' | 'adapterFor'> & { out?: string };
async function run(o: RunOptions): Promise<{ report: MergeReport; out: string }> {
  const out = o.out ?? join(root, 'out');
  const report = await merge({ ...o, out, adapterFor: fakeAdapterFor });
  return { report, out };
}

async function readOut(dir: string): Promise<Map<string, { dtype: DType; values: Float32Array }>> {
  const c = await Checkpoint.open(dir);
  try {
    const m = new Map<string, { dtype: DType; values: Float32Array }>();
    for (const n of c.names()) m.set(n, { dtype: c.info(n).dtype, values: await c.readFloat32(n) });
    return m;
  } finally {
    await c.close();
  }
}

async function expectFmnError(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isFmnError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return e as Error;
  }
  throw new Error('expected an FmnError');
}

const HEAD_A = [
  [1, 2],
  [3, 4],
];
const NEURON_A = [
  [1, 2, 3],
  [4, 5, 6],
];
const HEAD_B = [
  [2, 2],
  [1, 1],
];
const NEURON_B = [
  [1, 1, 1],
  [2, 2, 2],
];

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

describe('output', () => {
  it('one folder per input (unique names), config and tokenizer files copied, report with content hashes', async () => {
    const a = await model('x/m', { seed: 1 });
    const b = await model('y/m', { seed: 2, vocabTxt: '[PAD]\n[CLS]\n[SEP]\na\nb\n' });
    const { out, report } = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] });
    expect((await readdir(out)).sort()).toEqual(['m', 'm-2', 'merge-report.json']);
    for (const [dir, name] of [
      [a.dir, 'm'],
      [b.dir, 'm-2'],
    ]) {
      expect((await readdir(join(out, name))).sort()).toEqual([
        'config.json',
        'model.safetensors',
        'tokenizer_config.json',
        'vocab.txt',
      ]);
      for (const f of ['config.json', 'tokenizer_config.json', 'vocab.txt']) {
        expect(await readFile(join(out, name, f), 'utf8')).toBe(await readFile(join(dir, f), 'utf8'));
      }
    }
    const sha = createHash('sha256')
      .update(await readFile(join(b.dir, 'model.safetensors')))
      .digest('hex');
    expect(report.inputs[1].weights[0].sha256).toBe(sha);
    expect(report.inputs.map((i) => i.output)).toEqual(['m', 'm-2']);
    expect([...report.inputs[0].taskHeadTensors].sort()).toEqual(['head.bias', 'head.weight']);
    expect(JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8'))).toEqual(report);
    expect(Object.keys(report.shares)).toEqual(['embeddings-and-shared', 'layer 0', 'layer 1', 'all']);
  });

  it.each([
    [
      'a FIFO',
      (p: string) => execFileSync('mkfifo', [p]),
      /is a FIFO \(named pipe\), a regular file was expected/,
    ],
    [
      'a symlink to /dev/zero',
      (p: string) => symlinkSync('/dev/zero', p),
      /is a device, a regular file was expected/,
    ],
  ])(
    'a vocab.txt that is %s is an error naming it, not a hang',
    async (_what, make, message) => {
      const a = await model('fifo-a', { seed: 1 });
      const b = await model('fifo-b', { seed: 2 });
      const vocab = join(b.dir, 'vocab.txt');
      await rm(vocab);
      make(vocab);
      const out = join(root, 'fifo-out');
      // before the fix, hashing the vocabulary read the FIFO (or /dev/zero) forever: the test timed out
      const err = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }], out }).catch(
        (e: unknown) => e,
      );
      expect(isFmnError(err)).toBe(true);
      expect((err as Error).message).toContain(vocab);
      expect((err as Error).message).toMatch(message);
      await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    },
    10_000,
  );

  it('--force never replaces an input model, its Fisher file or a folder holding an input', async () => {
    const a = await model('guard/a', { seed: 1 });
    const b = await model('guard/b', { seed: 2 });
    const weights = await readFile(join(a.dir, 'model.safetensors'));
    for (const [out, message] of [
      [a.dir, /--out is input model 1/],
      [join(root, 'guard'), /--out contains input model 1/],
    ] as const) {
      const err = await run({
        method: 'average',
        models: [{ dir: a.dir }, { dir: b.dir }],
        out,
        force: true,
      }).catch((e: unknown) => e);
      expect(isFmnError(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
    expect(await readFile(join(a.dir, 'model.safetensors'))).toEqual(weights);
  });

  it('output folder names: the input folder names, made unique with -2, -3, ...; never merge-report.json', () => {
    expect(outputNames(['a/x', 'b/x', 'c/x-2', 'd/y', 'e/x', 'f/merge-report.json'])).toEqual([
      'x',
      'x-2',
      'x-2-2',
      'y',
      'x-3',
      'merge-report.json-2',
    ]);
  });

  it('fp16 in -> fp16 out, rounded to nearest even; dtype override writes F32', async () => {
    const a = await model('a', { values: constant(1), dtype: 'F16' });
    const b = await model('b', { values: constant(1 + 2 ** -10), dtype: 'F16' });
    const { out } = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] });
    const got = await readOut(join(out, 'a'));
    for (const [, t] of got) expect(t.dtype).toBe('F16');
    // mean 1 + 2^-11 is a tie between 1 and 1 + 2^-10: rounds to the even one, 1
    expect(got.get('layer.0.q.weight')!.values[0]).toBe(1);
    const { out: out32 } = await run({
      method: 'average',
      dtype: 'F32',
      out: join(root, 'o32'),
      models: [{ dir: a.dir }, { dir: b.dir }],
    });
    const got32 = await readOut(join(out32, 'b'));
    expect(got32.get('layer.0.q.weight')!.dtype).toBe('F32');
    expect(got32.get('layer.0.q.weight')!.values[0]).toBe(1 + 2 ** -11);
    expect(got32.get('head.weight')!.values[0]).toBe(1 + 2 ** -10);
  });

  it('is atomic: a failure in the middle leaves no output folder and no temp files', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const fa = join(root, 'fa.safetensors');
    const fb = join(root, 'fb.safetensors');
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n).fill(1));
    // the last merged tensor has a negative value
    await writeFakeFullFisher(fb, (name, n) => new Float32Array(n).fill(name === 'pooler.bias' ? -1 : 1));
    const parent = join(root, 'outs');
    await mkdir(parent);
    await expectFmnError(
      run({
        method: 'fisher',
        out: join(parent, 'merged'),
        models: [
          { dir: a.dir, fisher: fa },
          { dir: b.dir, fisher: fb },
        ],
      }),
      /fb\.safetensors.*"pooler\.bias" has a negative value/,
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it('an existing output folder is an error unless force', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(2) });
    const out = join(root, 'out');
    await mkdir(out);
    await writeFile(join(out, 'old.txt'), 'old');
    await expectFmnError(
      run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] }),
      /already exists/,
    );
    await run({ method: 'average', force: true, models: [{ dir: a.dir }, { dir: b.dir }] });
    expect((await readdir(out)).sort()).toEqual(['a', 'b', 'merge-report.json']);
  });
});

describe('errors', () => {
  const two = async (oa: FakeModelOptions = {}, ob: FakeModelOptions = {}) => [
    { dir: (await model('a', oa)).dir },
    { dir: (await model('b', ob)).dir },
  ];

  it('fewer than two models', async () => {
    await expectFmnError(
      run({ method: 'average', models: [{ dir: (await model('a')).dir }] }),
      /at least two models/,
    );
  });

  it('inputs of different architectures', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { config: { model_type: 'fake2' } }) }),
      /different architectures/,
    );
  });

  it('inputs of different shapes name the tensor', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { shapes: { 'layer.1.ffn1.bias': [4] } }) }),
      /different shapes: tensor "layer\.1\.ffn1\.bias" is \[4\]/,
    );
  });

  it('a tensor missing from one input is named', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { omit: ['pooler.bias'] }) }),
      /"pooler\.bias"/,
    );
  });

  it('inputs with different vocab_size', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { config: { vocab_size: 6 } }) }),
      /vocab_size 5 .* 6/,
    );
  });

  it('inputs with different tokenizer vocabularies', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { vocabTxt: '[PAD]\n[CLS]\n[SEP]\na\nc\n' }) }),
      /tokenizer vocabulary \(vocab\.txt\)/,
    );
  });

  it("a mask Fisher whose layout differs from its model's", async () => {
    const [a, b] = await two();
    const bad = await maskFisher(
      'bad',
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
      ],
    );
    const e = await expectFmnError(
      run({
        method: 'fisher-nodes',
        models: [
          { ...a, fisher: await maskFisher('ok', HEAD_A, NEURON_A) },
          { ...b, fisher: bad },
        ],
      }),
      /layout \(L=3, H=2, I=3.*differs.*L=2, H=2, I=3/,
    );
    expect(e.message).toContain('bad.fisher.safetensors');
  });

  for (const [what, value, pattern] of [
    ['NaN', NaN, /NaN/],
    ['infinite', Infinity, /infinite/],
    ['negative', -0.5, /negative/],
  ] as const) {
    it(`a mask Fisher with a ${what} value`, async () => {
      const [a, b] = await two();
      const bad = await maskFisher(
        'bad',
        [
          [1, value],
          [1, 1],
        ],
        NEURON_A,
      );
      await expectFmnError(
        run({
          method: 'fisher-nodes',
          models: [
            { ...a, fisher: await maskFisher('ok', HEAD_A, NEURON_A) },
            { ...b, fisher: bad },
          ],
        }),
        pattern,
      );
    });
  }

  it('a full Fisher with a NaN value', async () => {
    const [a, b] = await two();
    const fa = join(root, 'fa.safetensors');
    await writeFakeFullFisher(fa, (name, n) => new Float32Array(n).fill(name === 'layer.0.v.bias' ? NaN : 1));
    await expectFmnError(
      run({
        method: 'fisher',
        models: [
          { ...a, fisher: fa },
          { ...b, fisher: fa },
        ],
      }),
      /"layer\.0\.v\.bias" has NaN/,
    );
  });

  it('a full Fisher file missing a parameter', async () => {
    const [a, b] = await two();
    const fa = join(root, 'fa.safetensors');
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n).fill(1), { omit: ['layer.1.o.weight'] });
    await expectFmnError(
      run({
        method: 'fisher',
        models: [
          { ...a, fisher: fa },
          { ...b, fisher: fa },
        ],
      }),
      /fa\.safetensors: full Fisher file has no tensor for parameter "layer\.1\.o\.weight"/,
    );
  });

  it('a Fisher method without Fisher files', async () => {
    await expectFmnError(run({ method: 'fisher-nodes', models: await two() }), /needs a Fisher file/);
  });

  it('a method that needs a base without one', async () => {
    for (const method of ['task-arithmetic', 'ties', 'dare'] as const) {
      await expectFmnError(run({ method, models: [{ dir: 'a' }, { dir: 'b' }] }), /needs a pre-trained base/);
    }
  });

  it('a base of another shape', async () => {
    const models = await two();
    const base = await model('base', { shapes: { 'emb.norm.weight': [3] } });
    await expectFmnError(run({ method: 'task-arithmetic', base: base.dir, models }), /"emb\.norm\.weight"/);
  });

  it('bad options: lambda, k, p', async () => {
    const models = await two();
    await expectFmnError(
      run({ method: 'average', models: [models[0], { ...models[1], lambda: 0 }] }),
      /must be positive/,
    );
    const base = (await model('base')).dir;
    await expectFmnError(run({ method: 'ties', base, options: { k: 0 }, models }), /top-k/);
    await expectFmnError(run({ method: 'dare', base, options: { p: 1 }, models }), /\[0, 1\)/);
  });
});
