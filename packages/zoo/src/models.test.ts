import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import { adapterFor, Checkpoint, type EncoderModel } from '@fmn/core';
import {
  isZooArch,
  ZOO_ARCHS,
  zooModelPath,
  zooPath,
  zooTasks,
  zooTokenizerFor,
  zooTokenizers,
} from './index.js';

async function open(dir: string): Promise<EncoderModel> {
  const ckpt = await Checkpoint.open(dir);
  try {
    return await adapterFor(ckpt.config).load(ckpt);
  } finally {
    await ckpt.close();
  }
}

describe('shipped model folders', () => {
  it('models/ holds one folder per architecture of ZOO_ARCHS, each with base and one folder per task', async () => {
    const dirs = (await readdir(zooPath('models'), { withFileTypes: true })).filter((d) => d.isDirectory());
    expect(dirs.map((d) => d.name).sort()).toEqual([...ZOO_ARCHS].sort());
    for (const arch of ZOO_ARCHS) {
      const inside = (await readdir(zooPath('models', arch))).sort();
      expect(inside).toEqual(['base', 'results.json', ...zooTasks.map((t) => t.name)].sort());
    }
  });

  it('names architectures and their tokenizers', () => {
    expect(isZooArch('roberta')).toBe(true);
    expect(isZooArch('gpt2')).toBe(false);
    expect(zooTokenizerFor('roberta')).toBe(zooTokenizers.bpe);
    expect(zooTokenizerFor('electra')).toBe(zooTokenizers.wordpiece);
    expect(zooModelPath('bert')).toBe(zooPath('models', 'bert', 'base'));
    expect(zooModelPath('bert', 'nli')).toBe(zooPath('models', 'bert', 'nli'));
  });
});

describe('shipped checkpoints', () => {
  for (const arch of ZOO_ARCHS) {
    const built = existsSync(zooModelPath(arch));
    it.skipIf(!built)(
      `${arch}: base and one fine-tuned model per task load through the adapter${built ? '' : ' (skipped: not built; pnpm zoo:build)'}`,
      async () => {
        const base = await open(zooModelPath(arch));
        expect(base.modelType).toBe(arch);
        for (const t of zooTasks) {
          const m = await open(zooModelPath(arch, t.name));
          expect(m.head?.kind === 'classification' && m.head.numLabels).toBe(t.num_labels);
          expect(m.dims).toEqual(base.dims);
        }
      },
    );
  }
});
