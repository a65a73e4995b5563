/**
 * The merge engine with each of the four real adapters (BERT, RoBERTa, DistilBERT, ELECTRA, all
 * registered by import) on the testkit's fixture families. Which tensors are task heads comes from
 * the fixture (written from the HuggingFace layout), not from the adapters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import '@fmn/arch-roberta';
import { adapterFor, Checkpoint, writeMaskFisher } from '@fmn/core';
import { FIXTURE_ARCHS, writeFamily, type FixtureArch, type FixtureFamily } from '@fmn/testkit';
import { merge } from './merge.js';

const L = 2;
const H = 4;
const I = 24;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-archs-'));
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
async function fisher(path: string, h00: number): Promise<string> {
  const head = new Float32Array(L * H).fill(1);
  head[0] = h00;
  await writeMaskFisher(path, {
    layout: { layers: L, heads: H, headSize: 4, intermediate: I },
    head,
    neuron: new Float32Array(L * I).fill(1),
    examples: 1,
  });
  return path;
}

const QUERY: Record<FixtureArch, string> = {
  bert: 'bert.encoder.layer.0.attention.self.query.weight',
  roberta: 'roberta.encoder.layer.0.attention.self.query.weight',
  electra: 'electra.encoder.layer.0.attention.self.query.weight',
  distilbert: 'distilbert.transformer.layer.0.attention.q_lin.weight',
};

describe.each(FIXTURE_ARCHS)('merge with the %s adapter', (arch) => {
  let family: FixtureFamily;
  let inputs: Map<string, Float32Array>[];
  beforeAll(async () => {
    family = await writeFamily(join(root, arch), arch, { layers: L, heads: H, intermediate: I, seed: 5 });
    inputs = await Promise.all(family.tasks.map((t) => tensors(t.dir)));
  });

  it('fisher-nodes with equal Fishers: every encoder tensor is the plain mean, every head is kept whole; outputs load', async () => {
    const out = join(root, `${arch}-equal`);
    const models = await Promise.all(
      family.tasks.map(async (t, j) => ({
        dir: t.dir,
        fisher: await fisher(join(root, `${arch}-eq${j}.st`), 1),
      })),
    );
    const report = await merge({ method: 'fisher-nodes', options: { mapping: 'block' }, models, out });
    expect(report.modelType).toBe(arch);
    for (const [j, task] of family.tasks.entries()) {
      const got = await tensors(join(out, report.inputs[j].output));
      const headNames = task.tensors.filter((t) => t.part.kind === 'classifier').map((t) => t.name);
      expect(headNames.length).toBeGreaterThan(0);
      expect([...report.inputs[j].taskHeadTensors].sort()).toEqual([...headNames].sort());
      expect([...got.keys()].sort()).toEqual(task.tensors.map((t) => t.name).sort());
      for (const t of task.tensors) {
        const v = got.get(t.name)!;
        if (t.part.kind === 'classifier') {
          expect([...v], t.name).toEqual([...inputs[j].get(t.name)!]);
        } else {
          v.forEach((x, i) =>
            expect(x, `${t.name}[${i}]`).toBeCloseTo(
              (inputs[0].get(t.name)![i] + inputs[1].get(t.name)![i] + inputs[2].get(t.name)![i]) / 3,
              6,
            ),
          );
        }
      }
      const c = await Checkpoint.open(join(out, report.inputs[j].output));
      try {
        const m = await adapterFor(c.config).load(c);
        expect(m.head?.kind === 'classification' && m.head.numLabels).toBe(task.numLabels);
      } finally {
        await c.close();
      }
    }
  });

  it('fisher-nodes: a head with Fisher 0 in two models takes its query rows wholly from the third', async () => {
    const out = join(root, `${arch}-zero`);
    const models = await Promise.all(
      family.tasks.map(async (t, j) => ({
        dir: t.dir,
        fisher: await fisher(join(root, `${arch}-z${j}.st`), j === 0 ? 1 : 0),
      })),
    );
    const report = await merge({ method: 'fisher-nodes', models, out });
    const q = (await tensors(join(out, report.inputs[2].output))).get(QUERY[arch])!;
    const [q0, q1, q2] = inputs.map((m) => m.get(QUERY[arch])!);
    for (let i = 0; i < 4 * 16; i++) expect(q[i]).toBe(q0[i]); // head 0 = rows 0..3 (head size 4, hidden 16)
    for (let i = 4 * 16; i < 16 * 16; i++) expect(q[i]).toBeCloseTo((q0[i] + q1[i] + q2[i]) / 3, 6);
  });

  it('task-arithmetic against the bare base model (names without the prefix)', async () => {
    const out = join(root, `${arch}-ta`);
    await merge({
      method: 'task-arithmetic',
      base: family.base.dir,
      options: { scale: 0.5 },
      models: family.tasks.map((t) => ({ dir: t.dir })),
      out,
    });
    const base = await tensors(family.base.dir);
    const got = await tensors(join(out, 'regression'));
    const prefix = `${arch}.`;
    for (const name of [QUERY[arch], `${prefix}embeddings.word_embeddings.weight`]) {
      const b = base.get(name.slice(prefix.length))!;
      expect(b, name).toBeDefined();
      got.get(name)!.forEach((v, i) => {
        const sum = inputs.reduce((s, m) => s + (m.get(name)![i] - b[i]), 0);
        expect(v).toBeCloseTo(b[i] + 0.5 * sum, 5);
      });
    }
  });
});
