/**
 * `fmn merge --search` (docs/method.md §5.6): a case whose best candidate is known by construction
 * (held-out labels made from that candidate's own predictions), the tie-break, held-out examples
 * from train only and never the Fisher's, and determinism.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sampleIndices } from '@fmn/data';
import { fmn, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

interface Search {
  kind: string;
  tasks: {
    name: string;
    data: string;
    split: string;
    examples: number;
    excluded: number;
    indices: number[];
  }[];
  candidates: { coefficients: number[]; scores: Record<string, number>; mean: number; distance: number }[];
  chosen: { index: number; coefficients: number[]; mean: number };
}
interface MergeJson {
  lambdas: number[];
  search?: Search;
  scale?: number | null;
}

const three = join(fx, 'bert', 'three-labels');
const reg = join(fx, 'bert', 'regression');

/** Rewrites a TSV's label column with a model's predictions (class name or score), one per row. */
async function relabel(src: string, model: string, out: string): Promise<void> {
  const lines = (await readFile(src, 'utf8')).trimEnd().split('\n');
  const preds = (await ok(['predict', '--model', model, '--data', src, '--json']))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { label?: string; score?: number });
  expect(preds).toHaveLength(lines.length - 1);
  const rows = lines.slice(1).map((l, i) => {
    const cols = l.split('\t');
    cols[cols.length - 1] = String(preds[i].label ?? preds[i].score);
    return cols.join('\t');
  });
  await writeFile(out, [lines[0], ...rows].join('\n') + '\n');
}

describe('fmn merge --search', () => {
  let first: MergeJson;

  it('finds the lambdas whose own predictions are the held-out labels (accuracy and correlations of 1)', async () => {
    // the merge with lambdas (0.3, 0.7), and train data labelled by its predictions
    const target = join(dir, 'target');
    await ok([
      'merge',
      '--method',
      'average',
      '--model',
      three,
      '--lambda',
      '0.3',
      '--model',
      reg,
      '--lambda',
      '0.7',
      '--out',
      target,
    ]);
    const threeData = join(dir, 'three-train.tsv');
    const regData = join(dir, 'reg-train.tsv');
    await relabel(join(fx, 'data', 'three.tsv'), join(target, 'three-labels'), threeData);
    await relabel(join(fx, 'data', 'reg.tsv'), join(target, 'regression'), regData);
    const out = join(dir, 'searched');
    const stdout = await ok([
      'merge',
      '--method',
      'average',
      '--search',
      '--model',
      three,
      '--model',
      reg,
      '--data',
      threeData,
      '--data',
      regData,
      '--backend',
      'onnxruntime',
      '--out',
      out,
    ]);
    expect(stdout).toMatch(/search: lambdas 0\.3, 0\.7 chosen from 11 candidates/);
    first = JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8')) as MergeJson;
    const s = first.search!;
    expect(s.kind).toBe('lambdas');
    expect(s.candidates.map((c) => c.coefficients[0])).toEqual([
      0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
    ]);
    expect(s.chosen.coefficients).toEqual([0.3, 0.7]);
    expect(first.lambdas).toEqual([0.3, 0.7]);
    // that candidate reproduces its own predictions: accuracy 1, Pearson and Spearman 1
    const best = s.candidates[3];
    expect(best.scores['three-labels']).toBe(1);
    expect(best.scores.regression).toBeCloseTo(1, 5);
    for (const [i, c] of s.candidates.entries()) if (i !== 3) expect(c.mean).toBeLessThan(best.mean);
    // no Fisher file: every train example (24) is held out
    for (const t of s.tasks) {
      expect(t.split).toBe('train');
      expect(t.examples).toBe(24);
      expect(t.excluded).toBe(0);
    }
    // the merged folder is the (0.3, 0.7) merge
    const a = await readFile(join(out, 'regression', 'model.safetensors'));
    const b = await readFile(join(target, 'regression', 'model.safetensors'));
    expect(a.equals(b)).toBe(true);
  });

  it('is deterministic: the same table on a second run', async () => {
    const out = join(dir, 'searched-again');
    await ok([
      'merge',
      '--method',
      'average',
      '--search',
      '--model',
      three,
      '--model',
      reg,
      '--data',
      join(dir, 'three-train.tsv'),
      '--data',
      join(dir, 'reg-train.tsv'),
      '--backend',
      'onnxruntime',
      '--out',
      out,
    ]);
    const again = JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8')) as MergeJson;
    expect(again.search).toEqual(first.search);
  });

  it('tie-break: two copies of one model score the same everywhere, so the uniform point wins', async () => {
    const out = join(dir, 'tie');
    const data = join(fx, 'data', 'reg.tsv');
    await ok([
      'merge',
      '--method',
      'average',
      '--search',
      '--model',
      reg,
      '--model',
      reg,
      '--data',
      data,
      '--data',
      data,
      '--out',
      out,
    ]);
    const s = (JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8')) as MergeJson).search!;
    expect(new Set(s.candidates.map((c) => c.mean)).size).toBe(1);
    expect(s.chosen.coefficients).toEqual([0.5, 0.5]);
  });

  it("task-arithmetic: the scale over 0.1..1.5; held-out examples from a task folder's train split, minus the Fisher's", async () => {
    const sst = join(fx, 'data', 'SST-2');
    const fisher = join(dir, 'sst.fisher.safetensors');
    await ok([
      'fisher',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--data',
      sst,
      '--samples',
      '8',
      '--seed',
      '1',
      '--out',
      fisher,
    ]);
    const out = join(dir, 'nodes');
    await ok([
      'merge',
      '--method',
      'fisher-nodes',
      '--search',
      '--search-holdout',
      '100',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--fisher',
      fisher,
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--fisher',
      fisher,
      '--data',
      sst,
      '--data',
      sst,
      '--out',
      out,
    ]);
    const s = (JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8')) as MergeJson).search!;
    // SST-2/train.tsv has 16 examples, dev.tsv 10: the 8 train examples the Fisher did not use
    const used = sampleIndices(16, 8, 1);
    for (const t of s.tasks) {
      expect(t.data).toBe(sst);
      expect(t.split).toBe('train');
      expect(t.excluded).toBe(8);
      expect(t.examples).toBe(8);
      expect([...t.indices].sort((x, y) => x - y)).toEqual(
        Array.from({ length: 16 }, (_, i) => i).filter((i) => !used.includes(i)),
      );
    }
    const ta = join(dir, 'ta');
    await ok([
      'merge',
      '--method',
      'task-arithmetic',
      '--search',
      '--base',
      join(fx, 'bert', 'base'),
      '--model',
      three,
      '--model',
      reg,
      '--data',
      join(fx, 'data', 'three.tsv'),
      '--data',
      join(fx, 'data', 'reg.tsv'),
      '--out',
      ta,
    ]);
    const r = JSON.parse(await readFile(join(ta, 'merge-report.json'), 'utf8')) as MergeJson;
    expect(r.search!.kind).toBe('scale');
    expect(r.search!.candidates).toHaveLength(15);
    expect(r.scale).toBe(r.search!.chosen.coefficients[0]);
  });

  it('refuses a method without coefficients, a missing --data, --lambda with a lambda search, and --config', async () => {
    const base = ['merge', '--search', '--model', three, '--model', reg, '--out', join(dir, 'bad')];
    const data = ['--data', join(fx, 'data', 'three.tsv'), '--data', join(fx, 'data', 'reg.tsv')];
    expect(
      userError(await fmn([...base, '--method', 'average', '--data', join(fx, 'data', 'three.tsv')])),
    ).toMatch(/one --data .* per --model/);
    expect(userError(await fmn([...base, '--method', 'average', '--lambda', '1', ...data]))).toMatch(
      /do not give --lambda/,
    );
    expect(userError(await fmn([...base, '--method', 'mergekit-linear', ...data]))).toMatch(
      /no coefficients to search/,
    );
    // a mergekit configuration describes the whole merge
    expect(
      userError(
        await fmn(['merge', '--config', join(dir, 'none.yml'), '--search', '--out', join(dir, 'bad')]),
      ),
    ).toMatch(/--search cannot be combined with it/);
  });
});
