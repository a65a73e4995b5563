/**
 * `fmn run` with the methods beyond the paper (issue 16 item 5): regmean (a Gram file per task on
 * the Fisher's examples, cached) and fisher-nodes with mean-normalised Fishers. Each merge of the
 * run is checked against the same merge made by hand with `fmn gram` / `fmn merge`.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SafetensorsFile } from '@fmn/core';
import { sampleIndices } from '@fmn/data';
import { fmn, maxRelDiff, ok, readTensor, tempDir, userError } from './helpers.js';

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

interface Search {
  kind: string;
  tasks: { name: string; split: string; examples: number; excluded: number; indices: number[] }[];
  candidates: { coefficients: number[]; scores: Record<string, number>; mean: number; distance: number }[];
  chosen: { index: number; coefficients: number[]; mean: number };
}

interface Report {
  methods: string[];
  merges: { method: string; tasks: string[]; scores: Record<string, { score: number }>; search?: Search }[];
  comparisons: { method: string; k: number; ci95: [number, number]; pairs: number }[];
  fisher: { task: string; kind: string; cached: boolean; examples: number; file: string }[];
  stages: { stage: string; seconds: number }[];
}

const config = (output: string) => `title: regmean and normalised Fisher
output: ${output}
cache: cache
backend: onnxruntime
keep_models: true
fisher: { samples: 8, batch_size: 4, seed: 3 }
eval: { batch_size: 16 }
k: [2]
methods:
  - average
  - regmean
  - { method: regmean, regmean_alpha: 0.5, name: regmean-0.5 }
  - { method: fisher-nodes, fisher_normalize: mean }
tasks:
  - { name: two, model: ${join(fx, 'bert', 'two-labels')}, data: ${join(fx, 'data', 'two.tsv')} }
  - { name: three, model: ${join(fx, 'bert', 'three-labels')}, data: ${join(fx, 'data', 'three.tsv')} }
`;

async function tensorNames(path: string): Promise<string[]> {
  const f = await SafetensorsFile.open(path);
  try {
    return f.names();
  } finally {
    await f.close();
  }
}

/** Every tensor of two model folders' model.safetensors agrees to float32 rounding. */
async function sameWeights(a: string, b: string): Promise<void> {
  const names = await tensorNames(join(b, 'model.safetensors'));
  expect(names.length).toBeGreaterThan(10);
  for (const n of names) {
    const x = await readTensor(join(a, 'model.safetensors'), n);
    const y = await readTensor(join(b, 'model.safetensors'), n);
    expect(maxRelDiff(x.data, y.data), n).toBeLessThan(1e-6);
  }
}

describe('fmn run with regmean and the normalised Fisher', () => {
  let report: Report;
  const out = () => join(dir, 'out');
  const kept = async (prefix: string) =>
    join(
      out(),
      'merges',
      (await readdir(join(out(), 'merges'))).find((d) => d.startsWith(prefix))!,
    );

  it('computes a Gram file per task (a stage of its own) and lists both methods with their comparisons', async () => {
    await writeFile(join(dir, 'run.yaml'), config('out'));
    const stdout = await ok(['run', join(dir, 'run.yaml')]);
    expect(stdout).toMatch(/Gram/);
    report = JSON.parse(await readFile(join(out(), 'report.json'), 'utf8')) as Report;
    expect(report.methods).toEqual(['average', 'regmean', 'regmean-0.5', 'fisher-nodes (mean-normalised)']);
    const grams = report.fisher.filter((f) => f.kind === 'gram');
    expect(grams.map((f) => f.task)).toEqual(['two', 'three']);
    for (const f of grams) {
      expect(f.examples).toBe(8);
      expect(f.cached).toBe(false);
    }
    expect(report.stages.map((s) => s.stage)).toContain('Gram matrices');
    // average is the baseline; every other entry is compared with it, with an interval
    expect(report.comparisons.map((c) => c.method)).toEqual([
      'regmean',
      'regmean-0.5',
      'fisher-nodes (mean-normalised)',
    ]);
    for (const c of report.comparisons) {
      expect(c.pairs).toBe(2);
      expect(c.ci95[0]).toBeLessThanOrEqual(c.ci95[1]);
    }
    const html = await readFile(join(out(), 'report.html'), 'utf8');
    expect(html).toContain('fisher-nodes (mean-normalised)');
    expect(html).toContain('Gram (s)');
  });

  it("the Gram file is fmn gram's on the same examples (samples, seed), and the regmean merge is fmn merge's", async () => {
    const cache = join(dir, 'cache');
    const gramTwo = join(
      cache,
      (await readdir(cache)).find((f) => f.startsWith('two-gram-'))!,
    );
    const gramThree = join(
      cache,
      (await readdir(cache)).find((f) => f.startsWith('three-gram-'))!,
    );
    const mine = join(dir, 'two.gram.safetensors');
    await ok([
      'gram',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--data',
      join(fx, 'data', 'two.tsv'),
      '--samples',
      '8',
      '--seed',
      '3',
      '--batch-size',
      '4',
      '--backend',
      'onnxruntime',
      '--out',
      mine,
    ]);
    const names = await tensorNames(mine);
    expect(await tensorNames(gramTwo)).toEqual(names);
    for (const n of names) {
      const a = await readTensor(gramTwo, n);
      const b = await readTensor(mine, n);
      expect(maxRelDiff(a.data, b.data), n).toBeLessThan(1e-6);
    }
    const byHand = join(dir, 'regmean-by-hand');
    await ok([
      'merge',
      '--method',
      'regmean',
      '--regmean-alpha',
      '0.5',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--gram',
      gramTwo,
      '--model',
      join(fx, 'bert', 'three-labels'),
      '--gram',
      gramThree,
      '--out',
      byHand,
    ]);
    await sameWeights(join(await kept('two+three__regmean-0.5'), 'two-labels'), join(byHand, 'two-labels'));
  });

  it("the normalised entry is fmn merge --fisher-normalize mean on the run's mask Fisher files", async () => {
    const masks = report.fisher.filter((f) => f.kind === 'mask').map((f) => join(out(), f.file));
    const byHand = join(dir, 'normalised-by-hand');
    await ok([
      'merge',
      '--method',
      'fisher-nodes',
      '--fisher-normalize',
      'mean',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--fisher',
      masks[0],
      '--model',
      join(fx, 'bert', 'three-labels'),
      '--fisher',
      masks[1],
      '--out',
      byHand,
    ]);
    const run = await kept('two+three__fisher-nodes-mean-normalised');
    await sameWeights(join(run, 'three-labels'), join(byHand, 'three-labels'));
    const rep = JSON.parse(await readFile(join(run, 'merge-report.json'), 'utf8')) as {
      fisherNormalize?: string;
    };
    expect(rep.fisherNormalize).toBe('mean');
  });

  it('a second run takes the Gram files from the cache', async () => {
    await writeFile(join(dir, 'run2.yaml'), config('out2'));
    await ok(['run', join(dir, 'run2.yaml')]);
    const again = JSON.parse(await readFile(join(dir, 'out2', 'report.json'), 'utf8')) as Report;
    const grams = again.fisher.filter((f) => f.kind === 'gram');
    expect(grams).toHaveLength(2);
    for (const f of grams) expect(f.cached).toBe(true);
  });

  it("search: true chooses each merge's coefficients on held-out train examples the Fisher does not use", async () => {
    const cfg = config('out3').replace(
      /methods:[\s\S]*?tasks:/,
      `search: { holdout: 10, seed: 2 }
methods:
  - average
  - { method: average, search: true }
  - { method: task-arithmetic, search: true }
tasks:`,
    );
    await writeFile(join(dir, 'run3.yaml'), `base: ${join(fx, 'bert', 'base')}\n${cfg}`);
    expect(await ok(['run', join(dir, 'run3.yaml')])).toMatch(/^Coefficient search/m);
    const r = JSON.parse(await readFile(join(dir, 'out3', 'report.json'), 'utf8')) as Report;
    expect(r.methods).toEqual(['average', 'average (searched)', 'task-arithmetic (searched)']);
    expect(r.merges[0].search).toBeUndefined();
    const fisherExamples = sampleIndices(24, 8, 3); // fisher: { samples: 8, seed: 3 }, 24 train rows
    for (const [i, kind, n] of [
      [1, 'lambdas', 11],
      [2, 'scale', 15],
    ] as const) {
      const s = r.merges[i].search!;
      expect(s.kind).toBe(kind);
      expect(s.candidates).toHaveLength(n);
      const best = Math.max(...s.candidates.map((c) => c.mean));
      expect(s.candidates[s.chosen.index].mean).toBe(best);
      expect(s.chosen.coefficients).toEqual(s.candidates[s.chosen.index].coefficients);
      for (const t of s.tasks) {
        expect(t.split).toBe('train');
        expect(t.examples).toBe(10);
        expect(t.excluded).toBe(8);
        for (const x of t.indices) expect(fisherExamples).not.toContain(x);
      }
    }
    // the kept merge is fmn merge's with the chosen lambdas
    const s = r.merges[1].search!;
    const byHand = join(dir, 'searched-by-hand');
    await ok([
      'merge',
      '--method',
      'average',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--lambda',
      String(s.chosen.coefficients[0]),
      '--model',
      join(fx, 'bert', 'three-labels'),
      '--lambda',
      String(s.chosen.coefficients[1]),
      '--out',
      byHand,
    ]);
    const run = join(
      dir,
      'out3',
      'merges',
      (await readdir(join(dir, 'out3', 'merges'))).find(
        (d) => d.includes('searched') && d.startsWith('two+three__average'),
      )!,
    );
    await sameWeights(join(run, 'two-labels'), join(byHand, 'two-labels'));
    const html = await readFile(join(dir, 'out3', 'report.html'), 'utf8');
    expect(html).toContain('Coefficient search');
    expect(html).toContain('lambda per model');
  });

  it('refuses search: true for a method without coefficients, or with the lambda it chooses', async () => {
    for (const [entry, msg] of [
      ['{ method: mergekit-linear, search: true }', /no coefficients to search/],
      ['{ method: average, search: true, lambda: 0.5 }', /do not give "lambda"/],
      ['{ method: average, search: yes }', /"search" must be true or false/],
    ] as const) {
      const cfg = config('bad').replace(/methods:[\s\S]*?tasks:/, `methods:\n  - ${entry}\ntasks:`);
      await writeFile(join(dir, 'bad.yaml'), cfg);
      expect(userError(await fmn(['run', join(dir, 'bad.yaml')]))).toMatch(msg);
    }
  });
});
