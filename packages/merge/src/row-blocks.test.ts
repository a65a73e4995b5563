/**
 * Merging by blocks of rows (spec.mergeRows, MergeOptions.rowBlockBytes) changes no byte: every
 * method that merges by rows gives the same output files and report cut into blocks of a few rows
 * (uneven last blocks, the TIES passes cut too) as with one block per tensor, and as through its
 * whole-tensor `mergeTensor` alone (the same spec without `mergeRows`, so the engine's unblocked path).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import { Checkpoint, writeFullFisher, writeMaskFisher } from '@fmn/core';
import { writeFamily, type FixtureFamily } from '@fmn/testkit';
import { merge, type MergeOptions } from './merge.js';
import { mergeMethod, registerMergeMethod } from './methods/registry.js';

const L = 2;
const H = 4;
const I = 24;

let root: string;
let family: FixtureFamily;
let fishers: string[];
let fullFishers: string[];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-rows-'));
  family = await writeFamily(join(root, 'family'), 'bert', { layers: L, heads: H, intermediate: I });
  fishers = [];
  for (let j = 0; j < family.tasks.length; j++) {
    const path = join(root, `f${j}.safetensors`);
    // different, uneven Fishers per model (some zeros: the zero rule)
    const head = Float32Array.from({ length: L * H }, (_, i) => ((i * 7 + j * 3) % 5) / 4);
    const neuron = Float32Array.from({ length: L * I }, (_, i) => ((i * 5 + j) % 7) / 3);
    await writeMaskFisher(path, {
      layout: { layers: L, heads: H, headSize: 4, intermediate: I },
      head,
      neuron,
      examples: 2,
    });
    fishers.push(path);
  }
  // full Fishers: every float tensor of each model, uneven values with zeros
  fullFishers = [];
  for (const [j, t] of family.tasks.entries()) {
    const c = await Checkpoint.open(t.dir);
    try {
      const tensors = c
        .names()
        .filter((name) => c.info(name).dtype === 'F32')
        .map((name) => {
          const shape = c.info(name).shape;
          const n = shape.reduce((a, b) => a * b, 1);
          const values = Float32Array.from({ length: n }, (_, i) => ((i * 13 + j * 5) % 9) / 7);
          return { name, shape, values };
        });
      const path = join(root, `full${j}.safetensors`);
      await writeFullFisher(path, tensors, { examples: '3' });
      fullFishers.push(path);
    } finally {
      await c.close();
    }
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file of the output folder (model folders and merge-report.json), by relative path. */
async function files(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(path.slice(dir.length + 1), await readFile(path));
  }
  return out;
}

interface Case {
  readonly method: string;
  readonly options?: Record<string, unknown>;
  readonly lambdas?: number[];
  readonly dtype?: 'F16';
}

const cases: Case[] = [
  { method: 'average' },
  { method: 'average', lambdas: [1, 2.5, 0.5], dtype: 'F16' },
  { method: 'fisher-nodes' },
  { method: 'fisher-nodes', options: { mapping: 'block' }, lambdas: [1, 0, 2] },
  { method: 'fisher' },
  { method: 'fisher', options: { fisherNormalize: 'mean' }, lambdas: [2, 1, 0.5] },
  { method: 'task-arithmetic', options: { scale: 0.7 }, lambdas: [1, -0.5, 2] },
  { method: 'ties', options: { k: 20 } },
  { method: 'ties', options: { k: 55, scale: 1.3 }, lambdas: [0.5, 1, 2] },
  { method: 'dare', options: { p: 0.5, seed: 3 } },
  { method: 'dare', options: { p: 0.3, seed: 11, ties: true, k: 40 } },
];

let n = 0;
async function run(c: Case, method: string, rowBlockBytes?: number): Promise<Map<string, Buffer>> {
  const out = join(root, `out${n++}`);
  const needsBase = mergeMethod(c.method).needs.base === true;
  const o: MergeOptions = {
    method,
    models: family.tasks.map((t, j) => ({
      dir: t.dir,
      fisher: c.method === 'fisher-nodes' ? fishers[j] : c.method === 'fisher' ? fullFishers[j] : undefined,
      lambda: c.lambdas?.[j],
    })),
    base: needsBase ? family.base.dir : undefined,
    options: c.options,
    dtype: c.dtype,
    out,
    rowBlockBytes,
  };
  await merge(o);
  return files(out);
}

describe('merging by blocks of rows', () => {
  it.each(cases)(
    '$method $options $lambdas $dtype: the same bytes in blocks of a few rows, in one block, and whole',
    async (c) => {
      const spec = mergeMethod(c.method);
      expect(spec.mergeRows).toBeDefined();
      // the fixture's rows are 16 floats (64 bytes): 200 bytes is 3 rows, 4 bytes one row or one entry
      const small = await run(c, c.method, 200);
      const single = await run(c, c.method, 4);
      const one = await run(c, c.method, 2 ** 40);
      const wholeName = `${c.method}-whole-${n}`;
      registerMergeMethod({ ...spec, name: wholeName, mergeRows: undefined });
      const whole = await run(c, wholeName);
      expect([...small.keys()].sort()).toEqual([...one.keys()].sort());
      expect(small.size).toBeGreaterThan(3);
      for (const [path, bytes] of one) {
        expect(small.get(path)!.equals(bytes), path).toBe(true);
        expect(single.get(path)!.equals(bytes), path).toBe(true);
        // the report names the method: compare the model files
        if (path.endsWith('.safetensors')) expect(whole.get(path)!.equals(bytes), path).toBe(true);
      }
      const report = JSON.parse(one.get('merge-report.json')!.toString()) as Record<string, unknown>;
      const wholeReport = JSON.parse(whole.get('merge-report.json')!.toString()) as Record<string, unknown>;
      expect({ ...wholeReport, method: c.method }).toEqual(report);
    },
  );
});
