import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, FmnError, getAdapter } from '@fmn/core';
import { describeAdapterConformance, editFixture, writeCheckpoint } from '@fmn/testkit';
import { bertAdapter } from './index.js';
import { bertFixture } from './testing/index.js';

describeAdapterConformance(bertAdapter, bertFixture);

describe('bert adapter', () => {
  it('registers itself on import', () => {
    expect(getAdapter('bert')).toBe(bertAdapter);
  });
});

describe('bert adapter details', () => {
  const withDir = async (f: (dir: string) => Promise<void>) => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-bert-'));
    try {
      await f(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const load = async (dir: string) => {
    const ck = await Checkpoint.open(dir);
    try {
      return await bertAdapter.load(ck);
    } finally {
      await ck.close();
    }
  };

  it('maps HF hidden_act names: gelu (erf), gelu_new / gelu_pytorch_tanh (tanh form), relu', async () => {
    await withDir(async (dir) => {
      const cases: [string, string][] = [
        ['gelu', 'gelu'],
        ['gelu_new', 'gelu_new'],
        ['gelu_pytorch_tanh', 'gelu_new'],
        ['relu', 'relu'],
      ];
      for (const [hf, fmn] of cases) {
        await writeCheckpoint(dir, 'bert', { hiddenAct: hf });
        expect((await load(dir)).activation, hf).toBe(fmn);
      }
      await writeCheckpoint(dir, 'bert', { hiddenAct: 'quick_gelu' });
      await expect(load(dir)).rejects.toThrow(/unsupported "hidden_act" "quick_gelu"/);
    });
  });

  it('rejects relative position embeddings', async () => {
    await withDir(async (dir) => {
      await writeCheckpoint(dir, 'bert');
      await editFixture(dir, { config: (c) => ({ ...c, position_embedding_type: 'relative_key' }) });
      await expect(load(dir)).rejects.toThrow(/position_embedding_type "relative_key"/);
    });
  });

  it('keeps a bare BertModel pooler as extras (written back, universal), and puts it first in a classifier head', async () => {
    await withDir(async (dir) => {
      await writeCheckpoint(join(dir, 'base'), 'bert', { numLabels: 0 });
      const base = await load(join(dir, 'base'));
      expect(base.head).toBeUndefined();
      expect(base.extras?.map((p) => p.name)).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
      const nopool = await writeCheckpoint(join(dir, 'nopool'), 'bert', { numLabels: 0, pooler: false });
      expect((await load(nopool.dir)).extras).toBeUndefined();
      await writeCheckpoint(join(dir, 'cls'), 'bert', { numLabels: 2 });
      const cls = await load(join(dir, 'cls'));
      expect(cls.head?.kind === 'classification' && cls.head.steps.map((s) => s.linear.weight.name)).toEqual([
        'bert.pooler.dense.weight',
        'classifier.weight',
      ]);
    });
  });

  it('a classifier checkpoint needs its pooler', async () => {
    await withDir(async (dir) => {
      await writeCheckpoint(dir, 'bert', { numLabels: 2 });
      await editFixture(dir, { tensors: (ts) => ts.filter((t) => !t.name.startsWith('bert.pooler.')) });
      await expect(load(dir)).rejects.toThrow(
        /missing 2 tensors.*bert\.pooler\.dense\.weight, bert\.pooler\.dense\.bias/,
      );
    });
  });

  it('role() rejects names that are not BERT tensors', () => {
    expect(() => bertAdapter.role('cls.predictions.bias', {})).toThrow(/not a tensor of a bert model/);
    expect(() => bertAdapter.role('bert.encoder.layer.0.attention.self.rotary.weight', {})).toThrow(FmnError);
  });
});
