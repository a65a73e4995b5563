/**
 * `fmn merge --config` end to end on the tiny BERT fixtures: the merged tensors against an
 * independent float64 computation following mergekit's definitions (docs/method.md 5.7):
 * a sort-based per-tensor magnitude trim, L1 rescale, sign consensus, normalize, lambda.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SafetensorsFile, writeGramFile, writeMaskFisher } from '@fmn/core';
import { dareRng } from '@fmn/merge';
import { DIMS } from './fixtures.js';
import { fmn, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const base = join(fx, 'bert', 'base');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('fmn-mergekit-')));
afterAll(() => cleanup());

async function tensors(folder: string): Promise<Map<string, { data: Float32Array; dtype: string }>> {
  const f = await SafetensorsFile.open(join(folder, 'model.safetensors'));
  try {
    const out = new Map<string, { data: Float32Array; dtype: string }>();
    for (const n of f.names()) {
      const dtype = f.info(n).dtype;
      if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16')
        out.set(n, { data: await f.readFloat32(n), dtype });
    }
    return out;
  } finally {
    await f.close();
  }
}

/** a base tensor, under the model's name or without its first segment (a bare base model) */
function baseOf(b: Map<string, { data: Float32Array }>, name: string): Float32Array {
  const v = b.get(name) ?? b.get(name.slice(name.indexOf('.') + 1));
  if (!v) throw new Error(`base has no ${name}`);
  return v.data;
}

interface Ref {
  sparsify: 'magnitude' | 'random' | null;
  consensus: boolean;
  weights: number[];
  densities: number[];
  normalize: boolean;
  rescale: boolean;
  lambda: number;
  /** draws[j][i]: model j keeps entry i when below its density */
  draws?: number[][];
}

/** mergekit's generalized task arithmetic for one tensor, in float64 (deltas rounded to float32 as mergekit's) */
function reference(thetas: Float32Array[], b: Float32Array, r: Ref): number[] {
  const n = b.length;
  const sparse = thetas.map((t, j) => {
    const d = Array.from(t, (v, i) => Math.fround(v - b[i]));
    let s = d;
    if (r.sparsify === 'magnitude' && r.densities[j] < 1) {
      const k = Math.floor(r.densities[j] * n);
      const order = d.map((_, i) => i).sort((p, q) => Math.abs(d[q]) - Math.abs(d[p]) || p - q);
      const keep = new Set(order.slice(0, k));
      s = d.map((v, i) => (keep.has(i) ? v : 0));
    } else if (r.sparsify === 'random' && r.densities[j] < 1) {
      s = d.map((v, i) => (r.draws![j][i] < r.densities[j] ? v : 0));
    }
    if (r.rescale && r.sparsify && r.densities[j] < 1) {
      const before = d.reduce((a, v) => a + Math.abs(v), 0);
      const after = s.reduce((a, v) => a + Math.abs(v), 0);
      if (before >= 1e-7 && after >= 1e-7) s = s.map((v) => (v * before) / after);
    }
    return s;
  });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const wd = sparse.map((s, j) => r.weights[j] * s[i]);
    let mix = 0;
    let div = 0;
    if (r.consensus) {
      const sign = wd.reduce((a, v) => a + v, 0) >= 0 ? 1 : -1;
      wd.forEach((v, j) => {
        if (Math.sign(v) === sign) {
          mix += v;
          div += r.weights[j];
        }
      });
      if (div === 0) div = 1;
    } else {
      mix = wd.reduce((a, v) => a + v, 0);
      div = r.weights.reduce((a, v) => a + v, 0);
      if (Math.abs(div) < 1e-8) div = 1;
    }
    out.push(b[i] + (r.normalize ? mix / div : mix) * r.lambda);
  }
  return out;
}

function maxErr(got: Float32Array, want: number[]): number {
  let e = 0;
  for (let i = 0; i < want.length; i++)
    e = Math.max(e, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
  return e;
}

async function config(name: string, text: string): Promise<string> {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, text);
  return file;
}

/** every merged tensor of every output against the reference */
async function check(out: string, r: Omit<Ref, 'draws'>, seed?: number): Promise<void> {
  const [a, b, z] = await Promise.all([tensors(two), tensors(three), tensors(base)]);
  for (const task of ['two-labels', 'three-labels']) {
    const merged = await tensors(join(out, task));
    const source = task === 'two-labels' ? a : b;
    let checked = 0;
    for (const [name, t] of merged) {
      if (name.startsWith('classifier.')) {
        expect(Array.from(t.data)).toEqual(Array.from(source.get(name)!.data)); // heads are kept
        continue;
      }
      const thetas = [a.get(name)!.data, b.get(name)!.data];
      const draws =
        r.sparsify === 'random'
          ? thetas.map((th, j) => {
              const rng = dareRng(seed ?? 0, j, name);
              return Array.from(th, () => rng.next());
            })
          : undefined;
      const want = reference(thetas, baseOf(z, name), { ...r, draws });
      const err = maxErr(t.data, want);
      if (err > 1e-5) throw new Error(`${task}/${name}: relative error ${err}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  }
}

describe('fmn merge --config (a mergekit YAML)', () => {
  it("ties: per-tensor magnitude trim keeping exactly int(density * numel), mergekit's consensus and normalize", async () => {
    const file = await config(
      'ties',
      [
        'merge_method: ties',
        `base_model: ${relative(dir, base)}`,
        'models:',
        `  - model: ${base}`,
        `  - model: ${relative(dir, two)}`,
        '    parameters: { weight: 1.0, density: 0.5 }',
        `  - model: ${relative(dir, three)}`,
        '    parameters: { weight: 0.5, density: 0.3 }',
        'parameters: { lambda: 0.8, int8_mask: true }',
        'dtype: float32',
        'out: ties-out',
      ].join('\n') + '\n',
    );
    const r = await fmn(['merge', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/int8_mask.*ignored/);
    await check(join(dir, 'ties-out'), {
      sparsify: 'magnitude',
      consensus: true,
      weights: [1, 0.5],
      densities: [0.5, 0.3],
      normalize: true,
      rescale: false,
      lambda: 0.8,
    });
    const report = JSON.parse(await readFile(join(dir, 'ties-out', 'merge-report.json'), 'utf8')) as {
      method: string;
    };
    expect(report.method).toBe('mergekit-ties');
  });

  it('dare_ties: Bernoulli keep with probability density, L1 rescale, consensus without trim', async () => {
    const file = await config(
      'dare',
      [
        'merge_method: dare_ties',
        `base_model: ${base}`,
        'models:',
        `  - { model: ${two}, parameters: { weight: 0.6 } }`,
        `  - { model: ${three}, parameters: { weight: 0.4, density: 0.7 } }`,
        'parameters: { density: 0.4 }',
        'random_seed: 5',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'dare-out');
    await ok(['merge', '--config', file, '--out', out]);
    await check(
      out,
      {
        sparsify: 'random',
        consensus: true,
        weights: [0.6, 0.4],
        densities: [0.4, 0.7],
        normalize: false,
        rescale: true,
        lambda: 1,
      },
      5,
    );
  });

  it('linear: the weighted average (normalize by default), written in dtype float16', async () => {
    const file = await config(
      'linear',
      [
        'merge_method: linear',
        'models:',
        `  - { model: ${two}, parameters: { weight: 2 } }`,
        `  - { model: ${three}, parameters: { weight: 1 } }`,
        'dtype: float16',
        'tokenizer_source: base',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'linear-out');
    const r = await fmn(['merge', '--config', file, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/tokenizer_source.*ignored/);
    const [a, b] = await Promise.all([tensors(two), tensors(three)]);
    const merged = await tensors(join(out, 'two-labels'));
    const q = 'bert.encoder.layer.0.attention.self.query.weight';
    expect(merged.get(q)!.dtype).toBe('F16');
    const want = Array.from(a.get(q)!.data, (v, i) => (2 * v + b.get(q)!.data[i]) / 3);
    // float16 keeps 11 significant bits
    expect(maxErr(merged.get(q)!.data, want)).toBeLessThan(1e-3);
  });

  it('task_arithmetic: base + lambda * the weighted deltas, normalized when asked', async () => {
    const file = await config(
      'ta',
      [
        'merge_method: task_arithmetic',
        `base_model: ${base}`,
        'models:',
        `  - { model: ${two}, parameters: { weight: 0.9 } }`,
        `  - { model: ${three}, parameters: { weight: 0.3 } }`,
        'parameters: { normalize: true, lambda: 0.5 }',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'ta-out');
    await ok(['merge', '--config', file, '--out', out]);
    await check(out, {
      sparsify: null,
      consensus: false,
      weights: [0.9, 0.3],
      densities: [1, 1],
      normalize: true,
      rescale: false,
      lambda: 0.5,
    });
  });

  it("fisher_nodes: fmn's own method from a configuration equals the native flags", async () => {
    const { layers, heads, intermediate, hidden } = DIMS;
    const layout = { layers, heads, intermediate, headSize: hidden / heads };
    const fishers: string[] = [];
    for (const [k, seed] of [
      [0, 3],
      [1, 7],
    ] as const) {
      let s = seed;
      const rnd = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2;
      const path = join(dir, `mask-${k}.safetensors`);
      await writeMaskFisher(path, {
        layout,
        head: Float32Array.from({ length: layers * heads }, rnd),
        neuron: Float32Array.from({ length: layers * intermediate }, rnd),
        examples: 10,
      });
      fishers.push(path);
    }
    const file = await config(
      'fn',
      [
        'merge_method: fisher_nodes',
        'models:',
        `  - { model: ${two}, fisher: ${relative(dir, fishers[0])}, parameters: { weight: 2 } }`,
        `  - { model: ${three}, fisher: ${fishers[1]} }`,
        'parameters: { mapping: block }',
      ].join('\n') + '\n',
    );
    const viaConfig = join(dir, 'fn-config');
    const native = join(dir, 'fn-native');
    await ok(['merge', '--config', file, '--out', viaConfig]);
    await ok([
      'merge',
      '--method',
      'fisher-nodes',
      '--mapping',
      'block',
      '--model',
      two,
      '--fisher',
      fishers[0],
      '--model',
      three,
      '--fisher',
      fishers[1],
      '--lambda',
      '2',
      '1',
      '--out',
      native,
    ]);
    for (const task of ['two-labels', 'three-labels']) {
      const a = await readFile(join(viaConfig, task, 'model.safetensors'));
      const b = await readFile(join(native, task, 'model.safetensors'));
      expect(a.equals(b)).toBe(true);
    }
  });

  it('regmean: from a configuration (gram files, alpha) equal to the native flags', async () => {
    const n = DIMS.hidden;
    const grams: string[] = [];
    for (const seed of [5, 11]) {
      let s = seed;
      const rnd = (): number => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
      // G = A A^T + I: symmetric positive definite
      const a = Array.from({ length: n * n }, rnd);
      const g = new Float32Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let v = i === j ? 1 : 0;
          for (let k = 0; k < n; k++) v += a[i * n + k] * a[j * n + k];
          g[i * n + j] = v;
        }
      const path = join(dir, `gram-${seed}.safetensors`);
      await writeGramFile(
        path,
        new Map([
          ['bert.pooler.dense.weight', g],
          ['bert.encoder.layer.0.attention.self.query.weight', g],
        ]),
        4,
      );
      grams.push(path);
    }
    const file = await config(
      'rm',
      [
        'merge_method: regmean',
        'models:',
        `  - { model: ${two}, gram: ${grams[0]}, parameters: { weight: 3 } }`,
        `  - { model: ${three}, gram: ${relative(dir, grams[1])} }`,
        'parameters: { alpha: 0.6 }',
      ].join('\n') + '\n',
    );
    const viaConfig = join(dir, 'rm-config');
    const native = join(dir, 'rm-native');
    await ok(['merge', '--config', file, '--out', viaConfig]);
    // the native flags: --lambda per model, --regmean-alpha, --gram after its --model
    await ok([
      'merge',
      '--method',
      'regmean',
      '--model',
      two,
      '--gram',
      grams[0],
      '--model',
      three,
      '--gram',
      grams[1],
      '--lambda',
      '3',
      '1',
      '--regmean-alpha',
      '0.6',
      '--out',
      native,
    ]);
    for (const task of ['two-labels', 'three-labels']) {
      const a = await readFile(join(viaConfig, task, 'model.safetensors'));
      const b = await readFile(join(native, task, 'model.safetensors'));
      expect(a.equals(b)).toBe(true);
    }
    const report = JSON.parse(await readFile(join(viaConfig, 'merge-report.json'), 'utf8')) as {
      method: string;
      lambdas: number[];
    };
    expect(report).toMatchObject({ method: 'regmean', lambdas: [3, 1] });
  });

  it('bad configurations are one-line errors naming the key and the file; --config excludes --method', async () => {
    const file = await config(
      'bad',
      `merge_method: ties\nbase_model: ${base}\nmodels:\n  - { model: ${two}, parameters: { weight: 1 } }\n  - { model: ${three}, parameters: { weight: 1 } }\nmerge_mehtod: ties\n`,
    );
    const line = userError(await fmn(['merge', '--config', file, '--out', join(dir, 'bad-out')]));
    expect(line).toMatch(/unknown key "merge_mehtod"/);
    expect(line).toContain(file);
    const both = userError(
      await fmn(['merge', '--config', file, '--method', 'ties', '--out', join(dir, 'x')]),
    );
    expect(both).toMatch(/--config/);
    const noOut = await config(
      'no-out',
      `merge_method: linear\nmodels:\n  - { model: ${two}, parameters: { weight: 1 } }\n  - { model: ${three}, parameters: { weight: 1 } }\n`,
    );
    expect(userError(await fmn(['merge', '--config', noOut]))).toMatch(/--out/);
    // fmn run points a mergekit file at fmn merge --config
    expect(userError(await fmn(['run', file]))).toMatch(/fmn merge --config/);
  });
});
