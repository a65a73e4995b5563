import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DIMS } from './fixtures.js';
import { fmn, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

interface Report {
  tasks: {
    name: string;
    metricNames: string[];
    finetuned: { score: number; metrics: Record<string, number>; ci95: [number | null, number | null] };
  }[];
  merges: {
    method: string;
    tasks: string[];
    scores: Record<
      string,
      { score: number; metrics: Record<string, number>; ci95: [number | null, number | null] }
    >;
  }[];
  comparisons: {
    method: string;
    k: number;
    baseline: string;
    delta: number;
    ci95: [number, number];
    significant: boolean;
  }[];
  fisher: { task: string; kind: string; cached: boolean; seconds: number; examples: number }[];
  maskFisher: { task: string; head: number[]; layers: number; heads: number }[];
  stages: { stage: string; seconds: number }[];
  methods: string[];
}

const FULL_METHODS = `
  - average
  - fisher
  - fisher-nodes
  - { method: fisher-nodes, mapping: block }
  - { method: task-arithmetic, lambda: 0.5 }`;

const yaml = (seed: number, o: { output?: string; k?: string; methods?: string } = {}) => `# tiny protocol run
title: tiny run
output: ${o.output ?? 'out'}
cache: cache
backend: onnxruntime
base: ${join(fx, 'bert', 'base')}
keep_models: true
fisher: { samples: 8, batch_size: 4, seed: ${seed} }
eval: { batch_size: 16 }
k: ${o.k ?? '[2, all]'}
methods:${o.methods ?? FULL_METHODS}
tasks:
  - { name: two, model: ${join(fx, 'bert', 'two-labels')}, data: ${join(fx, 'data', 'two.tsv')} }
  - { name: three, model: ${join(fx, 'bert', 'three-labels')}, fisher_data: ${join(fx, 'data', 'three.tsv')}, eval_data: ${join(fx, 'data', 'three.tsv')} }
  - { name: reg, model: ${join(fx, 'bert', 'regression')}, data: ${join(fx, 'data', 'reg.tsv')} }
`;

describe('fmn run CONFIG', () => {
  let report: Report;

  it('YAML: Fisher for every model, every combination of k tasks with each method, report.json/md/html', async () => {
    const config = join(dir, 'run.yaml');
    await writeFile(config, yaml(0));
    const stdout = await ok(['run', config]);
    expect(stdout).toMatch(/^method\s+two\s+three\s+reg\s+average$/m);
    expect(stdout).toContain('report:');
    const out = join(dir, 'out');
    report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    expect(report.tasks.map((t) => t.name)).toEqual(['two', 'three', 'reg']);
    expect(report.methods).toEqual([
      'average',
      'fisher',
      'fisher-nodes',
      'fisher-nodes (block)',
      'task-arithmetic',
    ]);
    // 3 pairs + 1 triple, 5 methods each
    expect(report.merges).toHaveLength(20);
    const combos = new Set(report.merges.map((m) => m.tasks.join('+')));
    expect([...combos].sort()).toEqual(['three+reg', 'two+reg', 'two+three', 'two+three+reg']);
    for (const m of report.merges) expect(Object.keys(m.scores).sort()).toEqual([...m.tasks].sort());
    expect(report.fisher.map((f) => `${f.task}-${f.kind}`).sort()).toEqual([
      'reg-full',
      'reg-mask',
      'three-full',
      'three-mask',
      'two-full',
      'two-mask',
    ]);
    expect(report.fisher.every((f) => !f.cached && f.examples === 8 && f.seconds >= 0)).toBe(true);
    expect(report.maskFisher.map((m) => [m.layers, m.heads, m.head.length])).toEqual(
      Array(3).fill([DIMS.layers, DIMS.heads, DIMS.layers * DIMS.heads]),
    );
    expect(report.stages.map((s) => s.stage).sort()).toEqual([
      'bootstrap intervals',
      'evaluate fine-tuned',
      'evaluate merged',
      'full Fisher',
      'mask Fisher',
      'merge',
    ]);

    // a 95% interval for every score; each method against average for k = 2 and 3
    for (const s of [
      ...report.tasks.map((t) => t.finetuned),
      ...report.merges.flatMap((m) => Object.values(m.scores)),
    ])
      expect(s.ci95).toHaveLength(2);
    expect(report.comparisons.map((c) => `${c.method}@${c.k}`)).toEqual(
      report.methods.slice(1).flatMap((m) => [`${m}@2`, `${m}@3`]),
    );
    expect(stdout).toMatch(/minus average/);
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| method | two | three | reg | average |');
    expect(md).toContain('| method | minus average | 95% interval | verdict |');
    expect(md).toContain('## Time per stage');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // self-contained: inline SVG and CSS, no scripts, links or external resources
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|url\(/i);
    // a scores plot per k; two heatmaps per model, on its own and on shared colour scales
    expect((html.match(/<svg [^>]*class="fmn-scores-plot"/g) ?? []).length).toBe(2);
    expect((html.match(/<svg /g) ?? []).length).toBe(2 + 2 * 6);
    expect(html).toContain('<th>method</th>');
    expect(html).toContain('Time per stage');
  });

  it('the report agrees with fmn eval on the fine-tuned and the kept merged models', async () => {
    const fine = JSON.parse(
      await ok([
        'eval',
        '--model',
        join(fx, 'bert', 'two-labels'),
        '--data',
        join(fx, 'data', 'two.tsv'),
        '--json',
      ]),
    ) as Record<string, number>;
    const two = report.tasks.find((t) => t.name === 'two')!;
    expect(two.finetuned.metrics.accuracy).toBeCloseTo(fine.accuracy, 10);
    expect(two.finetuned.score).toBeCloseTo((fine.accuracy + fine.f1) / 2, 10);
    const merges = join(dir, 'out', 'merges');
    const kept = (await readdir(merges)).find((d) => d.startsWith('three+reg__fisher-nodes'))!;
    expect(kept).toBeDefined();
    const m = JSON.parse(
      await ok([
        'eval',
        '--model',
        join(merges, kept, 'regression'),
        '--data',
        join(fx, 'data', 'reg.tsv'),
        '--json',
      ]),
    ) as Record<string, number>;
    const inReport = report.merges.find(
      (x) => x.method === 'fisher-nodes' && x.tasks.join('+') === 'three+reg',
    )!;
    expect(inReport.scores.reg.metrics.pearson).toBeCloseTo(m.pearson, 4);
  });

  it('a second run takes the Fisher files from the cache; another seed computes new ones', async () => {
    const config = join(dir, 'run.yaml');
    const cache = join(dir, 'cache');
    const before = await readdir(cache);
    const mtimes = await Promise.all(before.map(async (f) => (await stat(join(cache, f))).mtimeMs));
    // another configuration (other methods, k, output) over the same models, data and Fisher settings
    const light = { output: 'out2', k: 'all', methods: ' [fisher, fisher-nodes]' };
    await writeFile(config, yaml(0, light));
    await ok(['run', config, '--quiet']);
    const again = JSON.parse(await readFile(join(dir, 'out2', 'report.json'), 'utf8')) as Report;
    expect(again.merges).toHaveLength(2);
    expect(again.fisher.every((f) => f.cached)).toBe(true);
    expect(await readdir(cache)).toEqual(before);
    expect(await Promise.all(before.map(async (f) => (await stat(join(cache, f))).mtimeMs))).toEqual(mtimes);
    await writeFile(config, yaml(1, light));
    await ok(['run', config, '--quiet']);
    const seeded = JSON.parse(await readFile(join(dir, 'out2', 'report.json'), 'utf8')) as Report;
    expect(seeded.fisher.every((f) => !f.cached)).toBe(true);
    expect((await readdir(cache)).length).toBe(2 * before.length);
  });

  it('JSON config on tfjs (RoBERTa family); heatmaps without a Fisher-based method', async () => {
    const config = join(dir, 'run.json');
    await writeFile(
      config,
      JSON.stringify({
        output: 'json-out',
        backend: 'tfjs',
        fisher: { samples: 6, batch_size: 3 },
        k: 2,
        base: join(fx, 'roberta', 'base'),
        methods: ['average', { method: 'task-arithmetic', lambda: 0.8 }],
        tasks: [
          { name: 'a', model: join(fx, 'roberta', 'two-labels'), data: join(fx, 'data', 'two.jsonl') },
          { name: 'b', model: join(fx, 'roberta', 'regression'), data: join(fx, 'data', 'reg.tsv') },
        ],
      }),
    );
    await ok(['run', config, '--quiet']);
    const r = JSON.parse(await readFile(join(dir, 'json-out', 'report.json'), 'utf8')) as Report & {
      backend: string;
      architecture: string;
    };
    expect(r.backend).toMatch(/^tfjs/);
    expect(r.architecture).toBe('roberta');
    expect(r.merges.map((m) => m.method)).toEqual(['average', 'task-arithmetic']);
    // no Fisher-based method, yet the report still has each model's mask Fisher heatmaps
    expect(r.fisher.map((f) => f.kind)).toEqual(['mask', 'mask']);
    const html = await readFile(join(dir, 'json-out', 'report.html'), 'utf8');
    expect((html.match(/<svg /g) ?? []).length).toBe(1 + 2 * 4);
  });

  it('an invalid configuration is a one-line error naming the file', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'methods: [average]\ntasks: []\nbogus: 1\n');
    expect(userError(await fmn(['run', bad]))).toMatch(/bad\.yaml.*unknown key "bogus"/);
    await writeFile(bad, yaml(0).replace('average', 'median'));
    expect(userError(await fmn(['run', bad]))).toMatch(/unknown method "median"/);
    await writeFile(bad, yaml(0).replace(join(fx, 'bert', 'regression'), join(fx, 'nope')));
    expect(userError(await fmn(['run', bad]))).toMatch(/model folder of task "reg" not found/);
    await writeFile(bad, 'tasks: [\n');
    expect(userError(await fmn(['run', bad]))).toMatch(/cannot parse/);
  });
});

describe('fmn inspect', () => {
  it('a model folder: architecture, shapes, parameter count, dtypes', async () => {
    const model = join(fx, 'bert', 'two-labels');
    const text = await ok(['inspect', model]);
    expect(text).toContain('model_type     bert');
    expect(text).toContain(
      `layers ${DIMS.layers}, heads ${DIMS.heads}, hidden ${DIMS.hidden}, intermediate ${DIMS.intermediate}`,
    );
    expect(text).toMatch(/bert\.encoder\.layer\.0\.attention\.self\.query\.weight\s+F32\s+\[16, 16\]\s+256/);
    const { SafetensorsFile, numel } = await import('@fmn/core');
    const f = await SafetensorsFile.open(join(model, 'model.safetensors'));
    const params = f.names().reduce((a, n) => a + numel(f.info(n).shape), 0);
    await f.close();
    const j = JSON.parse(await ok(['inspect', model, '--json'])) as {
      parameters: number;
      dtypes: Record<string, { params: number }>;
    };
    expect(j.parameters).toBe(params);
    expect(j.dtypes.F32.params).toBe(params);
    expect(text).toContain(`parameters     ${params.toLocaleString('en-US')}`);
  });

  it('a mask Fisher file: metadata and a terminal heatmap; a full Fisher file: its tensors', async () => {
    const mask = join(dir, 'insp-mask.safetensors');
    const full = join(dir, 'insp-full.safetensors');
    const args = [
      '--model',
      join(fx, 'roberta', 'three-labels'),
      '--data',
      join(fx, 'data', 'three.tsv'),
      '--samples',
      '6',
      '--batch-size',
      '3',
    ];
    await Promise.all([
      ok(['fisher', ...args, '--out', mask]),
      ok(['fisher', '--full', ...args, '--out', full]),
    ]);
    const text = await ok(['inspect', mask]);
    expect(text).toContain('head Fisher (rows: layers, columns: heads)');
    const rows = text.split('\n').filter((l) => /^L\d /.test(l));
    // head heatmap rows then neuron heatmap rows, each cell two shade characters
    expect(rows).toHaveLength(2 * DIMS.layers);
    expect(rows[0]).toMatch(new RegExp(`^L0 [ ░▒▓█]{${2 * DIMS.heads}}$`));
    expect(text).toMatch(/[░▒▓█]/);
    const j = JSON.parse(await ok(['inspect', mask, '--json'])) as { kind: string; head: number[][] };
    expect(j.kind).toBe('mask-fisher');
    expect(j.head).toHaveLength(DIMS.layers);
    const ftext = await ok(['inspect', full]);
    expect(ftext).toContain('full diagonal Fisher');
    expect(ftext).toContain('roberta.encoder.layer.1.output.dense.weight');
  });
});
