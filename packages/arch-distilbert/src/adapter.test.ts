import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, getAdapter } from '@fmn/core';
import { describeAdapterConformance, editFixture, writeCheckpoint } from '@fmn/testkit';
import { distilbertAdapter } from './index.js';
import { distilbertFixture } from './testing/index.js';

describeAdapterConformance(distilbertAdapter, distilbertFixture);

describe('distilbert adapter', () => {
  it('registers itself on import', () => {
    expect(getAdapter('distilbert')).toBe(distilbertAdapter);
  });

  it('reads its own config keys (dim, n_heads, n_layers, hidden_dim, activation) and fixes eps at 1e-12', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-distil-'));
    try {
      const fx = await writeCheckpoint(dir, 'distilbert', {
        hidden: 12,
        heads: 3,
        layers: 1,
        intermediate: 20,
        hiddenAct: 'relu',
      });
      expect(fx.config).toMatchObject({
        dim: 12,
        n_heads: 3,
        n_layers: 1,
        hidden_dim: 20,
        activation: 'relu',
      });
      expect(fx.config.hidden_size).toBeUndefined();
      // a stray layer_norm_eps (not a DistilBertConfig key) changes nothing
      await editFixture(dir, { config: (c) => ({ ...c, layer_norm_eps: 1e-5 }) });
      const ck = await Checkpoint.open(dir);
      const m = await distilbertAdapter.load(ck);
      await ck.close();
      expect(m.dims).toMatchObject({
        hidden: 12,
        numHeads: 3,
        headSize: 4,
        numLayers: 1,
        intermediate: 20,
        typeVocabSize: 0,
      });
      expect(m.activation).toBe('relu');
      expect(m.embeddings.tokenType).toBeUndefined();
      expect([m.embeddings.norm.eps, m.layers[0].attentionNorm.eps, m.layers[0].outputNorm.eps]).toEqual([
        1e-12, 1e-12, 1e-12,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unsupported activation with the supported list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-distil-act-'));
    try {
      await writeCheckpoint(dir, 'distilbert', { hiddenAct: 'swish' });
      // the header check at open already reads the config
      await expect(Checkpoint.open(dir)).rejects.toThrow(
        /config\.json: unsupported "activation" "swish".*gelu_new/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects sinusoidal_pos_embds (true or 1) naming config.json; false is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-distil-sin-'));
    try {
      await writeCheckpoint(dir, 'distilbert', {});
      const path = join(dir, 'config.json');
      const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      for (const v of [true, 1]) {
        await writeFile(path, JSON.stringify({ ...config, sinusoidal_pos_embds: v }));
        await expect(Checkpoint.open(dir)).rejects.toThrow(
          new RegExp(`config\\.json: unsupported "sinusoidal_pos_embds" ${v}`),
        );
      }
      await writeFile(path, JSON.stringify({ ...config, sinusoidal_pos_embds: false }));
      await (await Checkpoint.open(dir)).close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
