/** `--json` on every command that prints results: stdout is exactly one JSON document (JSON lines for predict). */
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ok, tempDir } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const data = (n: string) => join(fx, 'data', n);
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** stdout parsed as one JSON object (it must be exactly one line) */
async function json(args: string[]): Promise<Record<string, unknown>> {
  const stdout = await ok([...args, '--json']);
  const lines = stdout.trimEnd().split('\n');
  expect(lines, args.join(' ')).toHaveLength(1);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

const fisherArgs = (out: string, extra: string[] = []) => [
  'fisher',
  '--model',
  two,
  '--data',
  data('two.tsv'),
  '--samples',
  '8',
  '--batch-size',
  '4',
  '--backend',
  'onnxruntime',
  '--out',
  out,
  ...extra,
];

describe('--json', () => {
  it('fisher and fisher combine', async () => {
    const f = await json(fisherArgs(join(dir, 'f.safetensors')));
    expect(f).toMatchObject({
      kind: 'mask',
      model: two,
      out: join(dir, 'f.safetensors'),
      examples: 8,
      shard: null,
      backend: 'onnxruntime',
    });
    expect(typeof f.seconds).toBe('number');
    const shards = [0, 1].map((i) => join(dir, `s${i}.safetensors`));
    for (const [i, s] of shards.entries()) await ok(fisherArgs(s, ['--shard', `${i}/2`, '--full']));
    const c = await json(['fisher', 'combine', ...shards, '--out', join(dir, 'c.safetensors')]);
    expect(c).toEqual({ kind: 'full', shards: 2, examples: 8, out: join(dir, 'c.safetensors') });
  });

  it('merge: the merge report with out and seconds', async () => {
    const out = join(dir, 'merged');
    const m = await json(['merge', '--method', 'average', '--model', two, '--model', three, '--out', out]);
    expect(m).toMatchObject({ out, format: 'fmn-merge-report', method: 'average' });
    expect((m.inputs as { dir: string }[]).map((i) => i.dir)).toEqual([two, three]);
  });

  it('eval, predict and inspect', async () => {
    expect(Object.keys(await json(['eval', '--model', two, '--data', data('two.tsv')])).sort()).toEqual([
      'accuracy',
      'examples',
      'f1',
    ]);
    const p = await ok(['predict', '--model', two, '--text', 'good', '--text', 'bad', '--json']);
    expect(
      p
        .trimEnd()
        .split('\n')
        .map((l) => Object.keys(JSON.parse(l) as object)),
    ).toEqual([
      ['label', 'probabilities', 'logits'],
      ['label', 'probabilities', 'logits'],
    ]);
    expect(await json(['inspect', two])).toMatchObject({ kind: 'model', path: two });
  });

  it('run and demo: the report, as report.json', async () => {
    const config = join(dir, 'run.yaml');
    await writeFile(
      config,
      `output: run-out
cache: cache
backend: onnxruntime
base: ${join(fx, 'bert', 'base')}
fisher: { samples: 4, batch_size: 4 }
k: [2]
methods: [average]
tasks:
  - { name: two, model: ${two}, data: ${data('two.tsv')} }
  - { name: three, model: ${three}, data: ${data('three.tsv')} }
`,
    );
    const run = await json(['run', config]);
    expect((run.merges as { method: string; tasks: string[] }[]).map((m) => [m.method, m.tasks])).toEqual([
      ['average', ['two', 'three']],
    ]);

    // a zoo-shaped folder on the fixtures
    const zoo = join(dir, 'zoo');
    await mkdir(join(zoo, 'models', 'bert'), { recursive: true });
    for (const [name, model] of [
      ['base', join(fx, 'bert', 'base')],
      ['two', two],
      ['three', three],
    ] as const)
      await symlink(model, join(zoo, 'models', 'bert', name));
    for (const [name, file] of [
      ['two', 'two.tsv'],
      ['three', 'three.tsv'],
    ] as const) {
      await mkdir(join(zoo, 'data', name), { recursive: true });
      for (const split of ['train', 'dev'])
        await copyFile(data(file), join(zoo, 'data', name, `${split}.tsv`));
    }
    await writeFile(
      join(zoo, 'data', 'tasks.json'),
      JSON.stringify({ tasks: [{ name: 'two' }, { name: 'three' }] }),
    );
    const demo = await json([
      'demo',
      '--zoo',
      zoo,
      '--samples',
      '4',
      '--out',
      join(dir, 'demo-out'),
      '--quiet',
    ]);
    expect((demo.tasks as { name: string }[]).map((t) => t.name)).toEqual(['two', 'three']);
    // the demo's eight methods (DEMO_METHODS)
    expect(new Set((demo.merges as { method: string }[]).map((m) => m.method)).size).toBe(8);
  });
});
