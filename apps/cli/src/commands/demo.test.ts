import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { sampleIndices } from '@fmn/data';
import { FAMILY_TASKS, writeFamily } from '@fmn/testkit';
import { renderText } from '../report/index.js';
import { executePlan } from './run.js';
import { DEMO_METHODS, demoPlan, zooHeldOutRows, zooRoot } from './demo.js';

const WORDS = ['good', 'bad', 'movie', 'film', 'great', 'awful', 'the', 'is', 'very', 'not', 'dog', 'cat'];
const text = (i: number, salt: number) =>
  Array.from(
    { length: 3 + ((i + salt) % 4) },
    (_, k) => WORDS[(i * 5 + k * 3 + salt * 7) % WORDS.length],
  ).join(' ');

/** A zoo-shaped folder (data/tasks.json, data/<task>/{train,dev}.tsv, models/bert/{base,<task>}) on a testkit family. */
async function tinyZoo(root: string): Promise<void> {
  await writeFamily(join(root, 'models', 'bert'), 'bert', {
    layers: 2,
    hidden: 16,
    heads: 2,
    intermediate: 32,
  });
  // a data-only task (no models) is listed too: the demo leaves it out
  const tasks = [
    ...FAMILY_TASKS.map((t) => ({ name: t.name, folder: `data/${t.name}` })),
    { name: 'data-only', folder: 'data/data-only', models: false },
  ];
  await mkdir(join(root, 'data'), { recursive: true });
  await writeFile(join(root, 'data', 'tasks.json'), JSON.stringify({ tasks }));
  for (const t of FAMILY_TASKS) {
    const dir = join(root, 'data', t.name);
    await mkdir(dir, { recursive: true });
    for (const [split, n] of [
      ['train', 20],
      ['dev', 12],
    ] as const) {
      const rows = ['id\tsentence1\tsentence2\tlabel'];
      for (let i = 0; i < n; i++) {
        const label = t.numLabels === 1 ? ((i * 7) % 10) / 2 : i % t.numLabels;
        rows.push(`${split}-${i}\t${text(i, 1)}\t${text(i, 2)}\t${label}`);
      }
      await writeFile(join(dir, `${split}.tsv`), `${rows.join('\n')}\n`);
    }
  }
}

describe('fmn demo', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmn-demo-test-'));
    await tinyZoo(join(root, 'zoo'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('plans the paper comparison on every pair and on all tasks, with the same Fisher examples for mask and full Fisher', async () => {
    const plan = await demoPlan('bert', join(root, 'plan-only'), { zoo: join(root, 'zoo'), samples: 8 });
    expect(plan.tasks.map((t) => t.name)).toEqual(FAMILY_TASKS.map((t) => t.name));
    expect(plan.k).toEqual([2, 3]);
    expect(plan.methods.map((m) => m.label)).toEqual([
      'average',
      'fisher',
      'fisher-nodes',
      'fisher-nodes (block)',
      'task-arithmetic',
      'ties',
      'regmean',
      'fisher-nodes (normalised)',
    ]);
    expect(plan.methods.at(-1)?.options).toEqual({ mapping: 'paper', fisherNormalize: 'mean' });
    expect(plan.fisher.samples).toBe(8);
    expect(plan.base).toBe(join(root, 'zoo', 'models', 'bert', 'base'));
    for (const t of plan.tasks) {
      expect(t.fisherData.endsWith(join(t.name, 'train.tsv'))).toBe(true);
      expect(t.evalData.endsWith(join(t.name, 'dev.tsv'))).toBe(true);
    }
  });

  it(
    'runs end to end on a tiny family: table, Fisher times with ratio, report.html',
    { timeout: 120_000 },
    async () => {
      const output = join(root, 'out');
      const plan = await demoPlan('bert', output, { zoo: join(root, 'zoo'), samples: 8 });
      const report = await executePlan(plan, { quiet: true });
      const n = FAMILY_TASKS.length;
      // C(3, 2) pairs + all three, for every method
      expect(report.merges).toHaveLength((3 + 1) * DEMO_METHODS.length);
      for (const m of report.merges) {
        for (const t of m.tasks) expect(Number.isFinite(m.scores[t].score)).toBe(true);
      }
      expect(report.fisher.filter((f) => f.kind === 'mask')).toHaveLength(n);
      expect(report.fisher.filter((f) => f.kind === 'full')).toHaveLength(n);
      // RegMean's Gram matrices, on the Fisher's examples, timed as their own stage
      expect(report.fisher.filter((f) => f.kind === 'gram')).toHaveLength(n);
      for (const f of report.fisher) expect(f.examples).toBe(8);
      expect(report.stages.map((s) => s.stage)).toContain('Gram matrices');
      // intervals (docs/method.md §6): every score, and each method against average for every k
      const scores = [
        ...report.tasks.map((t) => t.finetuned),
        ...report.merges.flatMap((m) => Object.values(m.scores)),
      ];
      for (const s of scores) {
        expect(s.ci95).toHaveLength(2);
        if (!Number.isNaN(s.ci95[0])) expect(s.ci95[0]).toBeLessThanOrEqual(s.ci95[1]);
      }
      expect(report.comparisons.map((c) => `${c.method}@${c.k}`)).toEqual(
        DEMO_METHODS.slice(1).flatMap((m) => [`${m.label}@2`, `${m.label}@3`]),
      );
      for (const c of report.comparisons) {
        expect(c.baseline).toBe('average');
        expect(c.significant).toBe(c.ci95[0] > 0 || c.ci95[1] < 0);
        // 3 pairs x 2 tasks, or 1 triple x 3 tasks
        expect(c.pairs).toBe(c.k === 2 ? 6 : 3);
      }
      const table = renderText(report);
      expect(table).toMatch(/\d ±\d/);
      expect(table).toMatch(/^(Beyond noise: |No method differs from average beyond noise)/m);
      expect(table).toContain('full / mask');
      expect(table).toMatch(/\bGram\b/);
      for (const m of DEMO_METHODS) expect(table).toContain(m.label);
      expect(await readFile(join(output, 'report.html'), 'utf8')).toContain('<html');
    },
  );

  it(
    'the coefficient search holds out only the train rows results.json records as kept out of fine-tuning',
    { timeout: 120_000 },
    async () => {
      const zoo = join(root, 'zoo');
      const results = join(zoo, 'models', 'bert', 'results.json');
      const held = [1, 4, 6, 9, 13, 15, 18];
      const tasks = Object.fromEntries(FAMILY_TASKS.map((t) => [t.name, { held_out: { rows: held } }]));
      await writeFile(results, JSON.stringify({ tasks }));
      try {
        const plan = await demoPlan('bert', join(root, 'held'), { zoo, samples: 8 });
        for (const t of plan.tasks) expect(t.searchRows).toEqual(held);
        // a searched merge of the first pair: its held-out examples are among those rows only
        const report = await executePlan(
          {
            ...plan,
            k: [2],
            tasks: plan.tasks.slice(0, 2),
            methods: [{ label: 'task-arithmetic (searched)', method: 'task-arithmetic', search: true }],
            search: { ...plan.search, holdout: 4 },
          },
          { quiet: true },
        );
        const searched = report.merges.flatMap((m) => (m.search ? [m.search] : []));
        expect(searched).toHaveLength(1);
        // the held-out rows minus the Fisher's examples (8 of the 20 train rows, seed 0)
        const fisherRows = sampleIndices(20, 8, 0);
        const left = held.filter((i) => !fisherRows.includes(i));
        for (const t of searched[0].tasks) {
          expect(t.indices).toHaveLength(Math.min(4, left.length));
          for (const i of t.indices) expect(left).toContain(i);
        }
      } finally {
        await rm(results, { force: true });
      }
    },
  );

  it('reads the held-out rows of results.json: none without the file, a clear error for bad rows', async () => {
    expect(await zooHeldOutRows(join(root, 'nowhere', 'results.json'))).toEqual(new Map());
    const file = join(root, 'results-bad.json');
    await writeFile(file, JSON.stringify({ tasks: { a: { held_out: { rows: [0, 2] } }, b: {} } }));
    expect(await zooHeldOutRows(file)).toEqual(new Map([['a', [0, 2]]]));
    await writeFile(file, JSON.stringify({ tasks: { a: { held_out: { rows: [0, -1] } } } }));
    const e = await zooHeldOutRows(file).catch((x: unknown) => x);
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toContain('tasks.a.held_out.rows must be a non-empty list of row indices');
    expect((e as Error).message).toContain(file);
  });

  it('says how to build the zoo when an architecture has no checkpoints', async () => {
    const e = await demoPlan('electra', join(root, 'x'), { zoo: join(root, 'zoo') }).catch((x: unknown) => x);
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toMatch(/no electra checkpoints.*pnpm zoo:build/);
  });

  it('finds the zoo from $FMN_ZOO_DIR, else in the workspace beside the CLI (the CLI does not depend on it)', async () => {
    expect(await zooRoot({ FMN_ZOO_DIR: join(root, 'zoo') })).toBe(join(root, 'zoo'));
    // a checkout's layout: <root>/apps/cli and <root>/packages/zoo/models
    const ws = join(root, 'ws');
    await mkdir(join(ws, 'apps', 'cli'), { recursive: true });
    await mkdir(join(ws, 'packages', 'zoo', 'models'), { recursive: true });
    expect(await zooRoot({}, join(ws, 'apps', 'cli'))).toBe(join(ws, 'packages', 'zoo'));
    // this repository's own zoo, found without FMN_ZOO_DIR
    const mine = await zooRoot({});
    expect(mine.endsWith(join('packages', 'zoo'))).toBe(true);
    expect(JSON.parse(await readFile(join(mine, 'package.json'), 'utf8'))).toMatchObject({
      name: '@fmn/zoo',
    });
  });

  it('the CLI package does not depend on the zoo; it is an optional peer', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('@fmn/zoo');
    expect(pkg.peerDependenciesMeta['@fmn/zoo']?.optional).toBe(true);
    // the zoo's build pipeline (tfjs training) is no concern of the CLI's, in any role
    for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies])
      expect(Object.keys(deps)).not.toContain('@fmn/zoo-build');
  });
});
