/** fmn eval, predict and export-onnx end to end on the BERT fixture family. */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { EXAMPLES } from './fixtures.js';
import { fmn, maxRelDiff, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const reg = join(fx, 'bert', 'regression');
const data = (n: string) => join(fx, 'data', n);
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

async function merged(method: string, extra: string[]): Promise<string> {
  const out = join(dir, `merged-${method}-${extra.length}`);
  const stdout = await ok(['merge', '--method', method, ...extra, '--out', out]);
  expect(stdout).toContain(`with ${method}`);
  return out;
}

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
