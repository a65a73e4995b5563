/**
 * The merge engine with the real BERT adapter (registered by importing @fmn/arch-bert) on the
 * testkit's fixture family: a bare base model and three fine-tuned classifiers with different heads.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import { bertAdapter } from '@fmn/arch-bert';
import { Checkpoint, writeMaskFisher } from '@fmn/core';
import { writeFamily, type FixtureFamily } from '@fmn/testkit';
import { merge } from './merge.js';

const L = 2;
const H = 4;
const I = 24;
const P = 'bert.encoder.layer.0.attention.self.query.weight';

let root: string;
let family: FixtureFamily;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-bert-'));
  family = await writeFamily(join(root, 'family'), 'bert', {
    layers: L,
    heads: H,
    intermediate: I,
    positionIdsBuffer: true,
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tensors(dir: string): Promise<Map<string, Float32Array>> {
  const c = await Checkpoint.open(dir);
  try {
    const m = new Map<string, Float32Array>();
    for (const n of c.names()) m.set(n, await c.readFloat32(n));
    return m;
  } finally {
    await c.close();
  }
}

/** Mask Fisher all ones except head (0, 0) = h00. */
async function fisher(name: string, h00: number): Promise<string> {
  const head = new Float32Array(L * H).fill(1);
  head[0] = h00;
  const path = join(root, `${name}.fisher.safetensors`);
  await writeMaskFisher(path, {
    layout: { layers: L, heads: H, headSize: 4, intermediate: I },
    head,
    neuron: new Float32Array(L * I).fill(1),
    examples: 1,
  });
  return path;
}

describe('merge with the BERT adapter', () => {
  it('fisher-nodes: heads kept per task, pooler merged, per-head blocks follow the Fisher; outputs load', async () => {
    const out = join(root, 'fmn');
    const models = [
      { dir: family.tasks[0].dir, fisher: await fisher('t0', 1) },
      { dir: family.tasks[1].dir, fisher: await fisher('t1', 0) },
      { dir: family.tasks[2].dir, fisher: await fisher('t2', 0) },
    ];
    const report = await merge({ method: 'fisher-nodes', models, out });
    expect(report.modelType).toBe('bert');
    const inputs = await Promise.all(family.tasks.map((t) => tensors(t.dir)));
    const outs = await Promise.all(report.inputs.map((i) => tensors(join(out, i.output))));
    // each output keeps its own classifier, of its own shape
    for (let j = 0; j < 3; j++) {
      expect([...outs[j].get('classifier.weight')!]).toEqual([...inputs[j].get('classifier.weight')!]);
      expect(outs[j].get('classifier.weight')!.length).toBe(family.tasks[j].numLabels * 16);
    }
    // head 0 of layer 0 (query rows 0..3): only task 0 has Fisher there
    const q = outs[1].get(P)!;
    for (let i = 0; i < 4 * 16; i++) expect(q[i]).toBe(inputs[0].get(P)![i]);
    // head 1 (rows 4..7): equal weights -> plain mean of the three
    for (let i = 4 * 16; i < 8 * 16; i++) {
      expect(q[i]).toBeCloseTo((inputs[0].get(P)![i] + inputs[1].get(P)![i] + inputs[2].get(P)![i]) / 3, 6);
    }
    // pooler: universal weights. u0 = 2 (all ones); u1 = u2 = ((3/4 + 1) + (1 + 1)) / 2 = 1.875
    const u = [2, 1.875, 1.875];
    const pool = 'bert.pooler.dense.weight';
    outs[2].get(pool)!.forEach((v, i) => {
      const want =
        (u[0] * inputs[0].get(pool)![i] + u[1] * inputs[1].get(pool)![i] + u[2] * inputs[2].get(pool)![i]) /
        5.75;
      expect(v).toBeCloseTo(want, 6);
    });
    // the position_ids buffer is passed through
    expect([...outs[0].get('bert.embeddings.position_ids')!]).toEqual([
      ...inputs[0].get('bert.embeddings.position_ids')!,
    ]);
    // the output folders load with the adapter, as classifiers with their own number of labels
    for (let j = 0; j < 3; j++) {
      const dir = join(out, report.inputs[j].output);
      const c = await Checkpoint.open(dir);
      try {
        const m = await bertAdapter.load(c);
        expect(m.head?.kind === 'classification' && m.head.numLabels).toBe(family.tasks[j].numLabels);
      } finally {
        await c.close();
      }
      expect(await readFile(join(dir, 'vocab.txt'), 'utf8')).toBe(
        await readFile(join(family.tasks[j].dir, 'vocab.txt'), 'utf8'),
      );
    }
  });

  it('task-arithmetic against the bare base model (names without the bert. prefix)', async () => {
    const out = join(root, 'ta');
    await merge({
      method: 'task-arithmetic',
      base: family.base.dir,
      options: { scale: 0.5 },
      models: family.tasks.map((t) => ({ dir: t.dir })),
      out,
    });
    const base = await tensors(family.base.dir);
    const inputs = await Promise.all(family.tasks.map((t) => tensors(t.dir)));
    const got = (await tensors(join(out, 'two-labels'))).get(P)!;
    const b = base.get('encoder.layer.0.attention.self.query.weight')!;
    got.forEach((v, i) => {
      const sum = inputs.reduce((s, m) => s + (m.get(P)![i] - b[i]), 0);
      expect(v).toBeCloseTo(b[i] + 0.5 * sum, 5);
    });
  });
});
