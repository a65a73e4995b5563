import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DIMS, EXAMPLES } from './fixtures.js';
import { fmn, maxRelDiff, ok, readTensor, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const reg = join(fx, 'bert', 'regression');
const base = join(fx, 'bert', 'base');
const data = (n: string) => join(fx, 'data', n);
let dir: string;
let cleanup: () => Promise<void>;
const fisher: Record<string, string> = {};

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const jobs: Promise<string>[] = [];
  for (const [task, model, file] of [
    ['two', two, 'two.tsv'],
    ['three', three, 'three.tsv'],
  ] as const) {
    for (const full of [false, true]) {
      const out = join(dir, `${task}-${full ? 'full' : 'mask'}.safetensors`);
      fisher[`${task}-${full ? 'full' : 'mask'}`] = out;
      const args = [
        'fisher',
        '--model',
        model,
        '--data',
        data(file),
        '--samples',
        '12',
        '--batch-size',
        '4',
        '--backend',
        'onnxruntime',
        '--out',
        out,
      ];
      jobs.push(ok(full ? [...args, '--full'] : args));
    }
  }
  await Promise.all(jobs);
});
afterAll(() => cleanup());

const INTER = (l: number) => `bert.encoder.layer.${l}.intermediate.dense.weight`;
const QUERY = 'bert.encoder.layer.0.attention.self.query.weight';
const HEAD = 'classifier.weight';

async function merged(method: string, extra: string[]): Promise<string> {
  const out = join(dir, `merged-${method}-${extra.length}`);
  const stdout = await ok(['merge', '--method', method, ...extra, '--out', out]);
  expect(stdout).toContain(`with ${method}`);
  return out;
}

describe('fmn merge (METHOD.md section 5)', () => {
  it('average: the isotropic mean of the encoders; every task keeps its own head', async () => {
    const out = await merged('average', ['--model', two, '--model', three]);
    const a = await readTensor(join(two, 'model.safetensors'), QUERY);
    const b = await readTensor(join(three, 'model.safetensors'), QUERY);
    const mean = a.data.map((v, i) => (v + b.data[i]) / 2);
    for (const task of ['two-labels', 'three-labels']) {
      expect(
        maxRelDiff((await readTensor(join(out, task, 'model.safetensors'), QUERY)).data, mean),
      ).toBeLessThan(1e-6);
    }
    for (const [task, src] of [
      ['two-labels', two],
      ['three-labels', three],
    ]) {
      const h = await readTensor(join(out, task, 'model.safetensors'), HEAD);
      expect(Array.from(h.data)).toEqual(
        Array.from((await readTensor(join(src, 'model.safetensors'), HEAD)).data),
      );
    }
    const report = JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8')) as { method: string };
    expect(report.method).toBe('average');
  });

  it('fisher-nodes (paper): FFN rows weighted by lambda_j * neuron Fisher (each --fisher pairs with its --model)', async () => {
    const out = await merged('fisher-nodes', [
      '--model',
      two,
      '--fisher',
      fisher['two-mask'],
      '--model',
      three,
      '--fisher',
      fisher['three-mask'],
      '--lambda',
      '0.25',
      '--lambda',
      '0.75',
    ]);
    const F = [
      await readTensor(fisher['two-mask'], 'neuron'),
      await readTensor(fisher['three-mask'], 'neuron'),
    ];
    const lambda = [0.25, 0.75];
    for (let l = 0; l < DIMS.layers; l++) {
      const th = [
        await readTensor(join(two, 'model.safetensors'), INTER(l)),
        await readTensor(join(three, 'model.safetensors'), INTER(l)),
      ];
      const got = (await readTensor(join(out, 'three-labels', 'model.safetensors'), INTER(l))).data;
      const cols = DIMS.hidden;
      const want = new Float64Array(got.length);
      for (let i = 0; i < DIMS.intermediate; i++) {
        let f = [0, 1].map((j) => F[j].data[l * DIMS.intermediate + i]);
        if (f.every((v) => v === 0)) f = [1, 1];
        const den = lambda[0] * f[0] + lambda[1] * f[1];
        for (let c = 0; c < cols; c++) {
          want[i * cols + c] =
            (lambda[0] * f[0] * th[0].data[i * cols + c] + lambda[1] * f[1] * th[1].data[i * cols + c]) / den;
        }
      }
      expect(maxRelDiff(got, want), `layer ${l}`).toBeLessThan(1e-5);
    }
  });

  it('fisher-nodes --mapping block differs from paper (value rows per head)', async () => {
    const args = [
      '--model',
      two,
      '--fisher',
      fisher['two-mask'],
      '--model',
      three,
      '--fisher',
      fisher['three-mask'],
    ];
    const paper = await merged('fisher-nodes', args);
    const block = await merged('fisher-nodes', [...args, '--mapping', 'block']);
    const V = 'bert.encoder.layer.0.attention.self.value.weight';
    const p = await readTensor(join(paper, 'two-labels', 'model.safetensors'), V);
    const b = await readTensor(join(block, 'two-labels', 'model.safetensors'), V);
    expect(maxRelDiff(b.data, p.data)).toBeGreaterThan(0);
    const report = JSON.parse(await readFile(join(block, 'merge-report.json'), 'utf8')) as {
      mapping: string;
    };
    expect(report.mapping).toBe('block');
  });

  it('fisher: elementwise full-Fisher weights with the 1e-6 floor', async () => {
    const out = await merged('fisher', [
      '--model',
      two,
      '--fisher',
      fisher['two-full'],
      '--model',
      three,
      '--fisher',
      fisher['three-full'],
    ]);
    const F = [await readTensor(fisher['two-full'], QUERY), await readTensor(fisher['three-full'], QUERY)];
    const th = [
      await readTensor(join(two, 'model.safetensors'), QUERY),
      await readTensor(join(three, 'model.safetensors'), QUERY),
    ];
    const want = th[0].data.map((_, i) => {
      const w = [F[0].data[i] + 1e-6, F[1].data[i] + 1e-6];
      return (w[0] * th[0].data[i] + w[1] * th[1].data[i]) / (w[0] + w[1]);
    });
    expect(
      maxRelDiff((await readTensor(join(out, 'two-labels', 'model.safetensors'), QUERY)).data, want),
    ).toBeLessThan(1e-5);
  });

  it('task-arithmetic: base + lambda * sum of task vectors (base without the architecture prefix)', async () => {
    const out = await merged('task-arithmetic', [
      '--model',
      two,
      '--model',
      three,
      '--base',
      base,
      '--lambda',
      '0.4',
    ]);
    const b = await readTensor(join(base, 'model.safetensors'), QUERY.replace(/^bert\./, ''));
    const th = [
      await readTensor(join(two, 'model.safetensors'), QUERY),
      await readTensor(join(three, 'model.safetensors'), QUERY),
    ];
    const want = b.data.map((v, i) => v + 0.4 * (th[0].data[i] - v + (th[1].data[i] - v)));
    expect(
      maxRelDiff((await readTensor(join(out, 'two-labels', 'model.safetensors'), QUERY)).data, want),
    ).toBeLessThan(1e-5);
  });

  it('ties and dare (seeded): outputs load and evaluate; dare depends on its seed', async () => {
    const models = ['--model', two, '--model', three, '--model', reg, '--base', base];
    const ties = await merged('ties', [...models, '--ties-k', '30']);
    const d1 = await merged('dare', [...models, '--dare-p', '0.5', '--dare-seed', '1']);
    const d2 = await merged('dare', [...models, '--dare-p', '0.5', '--dare-seed', '2', '--dare-ties']);
    const a = await readTensor(join(d1, 'regression', 'model.safetensors'), QUERY);
    const b = await readTensor(join(d2, 'regression', 'model.safetensors'), QUERY);
    expect(maxRelDiff(a.data, b.data)).toBeGreaterThan(0);
    const r = JSON.parse(
      await ok(['eval', '--model', join(ties, 'regression'), '--data', data('reg.tsv'), '--json']),
    ) as Record<string, number>;
    expect(Object.keys(r).sort()).toEqual(['examples', 'pearson', 'spearman']);
  });

  it('refuses mismatched models, missing Fisher files and an existing output', async () => {
    expect(
      userError(
        await fmn([
          'merge',
          '--method',
          'average',
          '--model',
          two,
          '--model',
          join(fx, 'roberta', 'three-labels'),
          '--out',
          join(dir, 'x'),
        ]),
      ),
    ).toMatch(/different architectures/);
    expect(
      userError(
        await fmn([
          'merge',
          '--method',
          'average',
          '--model',
          two,
          '--model',
          join(fx, 'bert-3-layers'),
          '--out',
          join(dir, 'x'),
        ]),
      ),
    ).toMatch(/different shapes/);
    expect(
      userError(
        await fmn([
          'merge',
          '--method',
          'fisher-nodes',
          '--model',
          two,
          '--model',
          three,
          '--out',
          join(dir, 'x'),
        ]),
      ),
    ).toMatch(/Fisher/);
    expect(
      userError(
        await fmn(['merge', '--method', 'ties', '--model', two, '--model', three, '--out', join(dir, 'x')]),
      ),
    ).toMatch(/--base/);
    expect(
      userError(await fmn(['merge', '--method', 'average', '--model', two, '--out', join(dir, 'x')])),
    ).toMatch(/at least two/);
    expect(
      userError(
        await fmn([
          'merge',
          '--method',
          'average',
          '--model',
          two,
          '--model',
          three,
          '--lambda',
          '1',
          '--lambda',
          '2',
          '--lambda',
          '3',
          '--out',
          join(dir, 'x'),
        ]),
      ),
    ).toMatch(/--lambda/);
    const out = join(dir, 'exists');
    await ok(['merge', '--method', 'average', '--model', two, '--model', three, '--out', out]);
    userError(await fmn(['merge', '--method', 'average', '--model', two, '--model', three, '--out', out]));
    await ok(['merge', '--method', 'average', '--model', two, '--model', three, '--out', out, '--force']);
  });
});

/** Metrics computed here from `fmn predict` output, independently of the eval code. */
function accuracy(logits: number[][], labels: number[]): number {
  const pred = logits.map((r) => r.indexOf(Math.max(...r)));
  return pred.filter((p, i) => p === labels[i]).length / labels.length;
}
function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

async function predict(
  model: string,
  file: string,
  backend: string,
  extra: string[] = [],
): Promise<number[][]> {
  const out = join(dir, `pred-${Math.random().toString(36).slice(2)}.jsonl`);
  const stdout = await ok([
    'predict',
    '--model',
    model,
    '--data',
    file,
    '--backend',
    backend,
    '--out',
    out,
    ...extra,
  ]);
  expect(stdout).toContain('wrote the predictions');
  const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
  return lines.map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    if ('score' in o) {
      expect(Object.keys(o)).toEqual(['score']);
      return [o.score as number];
    }
    expect(Object.keys(o)).toEqual(['label', 'probabilities', 'logits']);
    return o.logits as number[];
  });
}

async function labelsOf(file: string, map: (s: string) => number): Promise<number[]> {
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').slice(1);
  return lines.map((l) => map(l.split('\t').at(-1)!));
}

describe('fmn eval --json and fmn predict', () => {
  for (const backend of ['tfjs', 'onnxruntime'] as const) {
    it(`eval --json: exactly the metric names plus examples, matching predict (${backend})`, async () => {
      const cases = [
        {
          model: two,
          file: 'two.tsv',
          keys: ['accuracy', 'examples', 'f1'],
          labels: (s: string) => ['negative', 'positive'].indexOf(s),
        },
        {
          model: three,
          file: 'three.tsv',
          keys: ['accuracy', 'examples'],
          labels: (s: string) => ['entailment', 'neutral', 'contradiction'].indexOf(s),
        },
        { model: reg, file: 'reg.tsv', keys: ['examples', 'pearson', 'spearman'], labels: Number },
      ];
      for (const c of cases) {
        const r = await fmn([
          'eval',
          '--model',
          c.model,
          '--data',
          data(c.file),
          '--backend',
          backend,
          '--json',
          '--batch-size',
          '5',
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim().split('\n')).toHaveLength(1);
        const m = JSON.parse(r.stdout) as Record<string, number>;
        expect(Object.keys(m).sort()).toEqual(c.keys);
        expect(m.examples).toBe(EXAMPLES);
        const logits = await predict(c.model, data(c.file), backend);
        expect(logits).toHaveLength(EXAMPLES);
        const labels = await labelsOf(data(c.file), c.labels);
        if ('accuracy' in m) expect(m.accuracy).toBeCloseTo(accuracy(logits, labels), 10);
        if ('pearson' in m)
          expect(m.pearson).toBeCloseTo(
            pearson(
              logits.map((l) => l[0]),
              labels,
            ),
            5,
          );
      }
    });
  }

  it('eval with a task preset: --task cola reports matthews; plain text output without --json', async () => {
    const m = JSON.parse(
      await ok(['eval', '--model', two, '--data', data('cola.tsv'), '--task', 'cola', '--json']),
    ) as Record<string, number>;
    expect(Object.keys(m).sort()).toEqual(['examples', 'matthews']);
    // a GLUE task folder: dev split by default
    const sst2 = JSON.parse(
      await ok(['eval', '--model', two, '--data', data('SST-2'), '--task', 'sst2', '--json']),
    ) as Record<string, number>;
    expect(sst2).toEqual({ accuracy: expect.any(Number) as number, examples: 10 });
    const train = JSON.parse(
      await ok(['eval', '--model', two, '--data', data('SST-2'), '--split', 'train', '--json']),
    ) as Record<string, number>;
    expect(train.examples).toBe(16);
    const text = await ok(['eval', '--model', two, '--data', data('two.tsv')]);
    expect(text).toMatch(/accuracy\s+\d\.\d{4}/);
    expect(text).toMatch(/f1\s+\d\.\d{4}/);
  });

  it('predict writes one line per example in input order; both backends agree', async () => {
    const file = data('three.tsv');
    const [header, ...rows] = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const reversed = join(dir, 'three-reversed.tsv');
    await writeFile(reversed, [header, ...rows.reverse()].join('\n') + '\n');
    const a = await predict(three, file, 'tfjs', ['--batch-size', '7']);
    const b = await predict(three, reversed, 'onnxruntime', ['--batch-size', '5']);
    expect(a[0]).toHaveLength(3);
    expect(maxRelDiff(a.flat(), b.reverse().flat())).toBeLessThan(1e-4);
  });
});

/** The part of onnxruntime-node's API used here. */
interface Ort {
  InferenceSession: {
    create(path: string): Promise<{
      inputNames: readonly string[];
      outputNames: readonly string[];
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: number[]) => unknown;
}

describe('fmn export-onnx', () => {
  it('one graph with one output per task head; its logits equal predict on each merged model', async () => {
    const m = await merged('average', ['--model', two, '--model', three, '--model', reg]);
    const onnx = join(dir, 'export', 'multi.onnx');
    const stdout = await ok([
      'export-onnx',
      '--model',
      join(m, 'two-labels'),
      '--model',
      join(m, 'three-labels'),
      '--model',
      join(m, 'regression'),
      '--out',
      onnx,
    ]);
    expect(stdout).toContain('3 head(s)');
    // pre-tokenized inputs ([CLS] = 2, [SEP] = 3 in the testkit WordPiece vocabulary)
    const ids = [
      [2, 40, 41, 42, 3],
      [2, 50, 3],
      [2, 60, 61, 62, 63, 64, 3],
    ];
    const pretok = join(dir, 'pretok.jsonl');
    await writeFile(pretok, ids.map((x) => JSON.stringify({ input_ids: x })).join('\n') + '\n');
    // onnxruntime-node is a dependency of @fmn/backend-onnxruntime, not of the CLI
    const req = createRequire(new URL('../../../packages/backend-onnxruntime/package.json', import.meta.url));
    const { InferenceSession, Tensor } = req('onnxruntime-node') as Ort;
    const session = await InferenceSession.create(onnx);
    expect([...session.outputNames].sort()).toEqual(['regression', 'three-labels', 'two-labels']);
    for (const task of ['two-labels', 'three-labels', 'regression']) {
      const want = await predict(join(m, task), pretok, 'onnxruntime');
      for (const [k, x] of ids.entries()) {
        const feeds: Record<string, unknown> = {
          input_ids: new Tensor('int64', BigInt64Array.from(x, BigInt), [1, x.length]),
          attention_mask: new Tensor(
            'int64',
            BigInt64Array.from(x, () => 1n),
            [1, x.length],
          ),
        };
        if (session.inputNames.includes('token_type_ids'))
          feeds.token_type_ids = new Tensor('int64', new BigInt64Array(x.length), [1, x.length]);
        const res = await session.run(feeds);
        expect(maxRelDiff(Array.from(res[task].data as Float32Array), want[k]), `${task} ${k}`).toBeLessThan(
          1e-4,
        );
      }
    }
    await session.release();
  });

  it('refuses models that do not share one encoder', async () => {
    expect(
      userError(await fmn(['export-onnx', '--model', two, '--model', three, '--out', join(dir, 'x.onnx')])),
    ).toMatch(/encoder differs/);
  });
});
