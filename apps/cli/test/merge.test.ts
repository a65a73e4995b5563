/** fmn merge end to end on the BERT fixture family: each method against a hand computation, refusals, Fisher records. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DIMS } from './fixtures.js';
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
  it('a Fisher file given for another model (swapped, or one given twice) is an error naming it; --allow-fisher-mismatch merges', async () => {
    for (const [kind, method] of [
      ['mask', 'fisher-nodes'],
      ['full', 'fisher'],
    ] as const) {
      const swapped = [
        '--model',
        two,
        '--fisher',
        fisher[`three-${kind}`],
        '--model',
        three,
        '--fisher',
        fisher[`two-${kind}`],
      ];
      const out = join(dir, `swapped-${kind}`);
      const e = userError(await fmn(['merge', '--method', method, ...swapped, '--out', out]));
      expect(e).toContain(fisher[`three-${kind}`]);
      expect(e).toMatch(/given for model 1 .*does not belong to it/);
      const twice = [
        '--model',
        two,
        '--fisher',
        fisher[`two-${kind}`],
        '--model',
        three,
        '--fisher',
        fisher[`two-${kind}`],
      ];
      expect(userError(await fmn(['merge', '--method', method, ...twice, '--out', out]))).toMatch(
        /given for model 2 .*does not belong to it/,
      );
      const r = await fmn(['merge', '--method', method, ...swapped, '--allow-fisher-mismatch', '--out', out]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: .*does not belong to it.*merging anyway/);
    }
  });
});
