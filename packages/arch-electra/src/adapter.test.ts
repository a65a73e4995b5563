import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, getAdapter } from '@fmn/core';
import { describeAdapterConformance, writeCheckpoint } from '@fmn/testkit';
import { electraAdapter } from './index.js';
import { electraFixture } from './testing/index.js';

describeAdapterConformance(electraAdapter, electraFixture);

describe('electra adapter', () => {
  it('registers itself on import', () => {
    expect(getAdapter('electra')).toBe(electraAdapter);
  });

  it('has embeddings_project (hidden x E) when embedding_size != hidden_size, and none when equal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-electra-'));
    try {
      const a = await writeCheckpoint(join(dir, 'a'), 'electra', { hidden: 16, embeddingSize: 8 });
      let ck = await Checkpoint.open(a.dir);
      const m = await electraAdapter.load(ck);
      await ck.close();
      expect(m.embeddings.word.shape).toEqual([a.config.vocab_size, 8]);
      expect(m.embeddings.norm.weight.shape).toEqual([8]);
      expect(m.embeddings.project?.weight.name).toBe('electra.embeddings_project.weight');
      expect(m.embeddings.project?.weight.shape).toEqual([16, 8]);
      expect(m.dims.embeddingSize).toBe(8);

      const b = await writeCheckpoint(join(dir, 'b'), 'electra', { hidden: 16, embeddingSize: 16 });
      expect(b.tensors.some((t) => t.name.includes('embeddings_project'))).toBe(false);
      ck = await Checkpoint.open(b.dir);
      const n = await electraAdapter.load(ck);
      await ck.close();
      expect(n.embeddings.project).toBeUndefined();
      expect(n.dims.embeddingSize).toBe(16);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
