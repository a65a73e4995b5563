import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint, getAdapter } from '@fmn/core';
import { describeAdapterConformance, editFixture, writeCheckpoint } from '@fmn/testkit';
import { robertaAdapter } from './index.js';
import { robertaFixture } from './testing/index.js';

describeAdapterConformance(robertaAdapter, robertaFixture);

describe('roberta adapter', () => {
  it('registers itself on import', () => {
    expect(getAdapter('roberta')).toBe(robertaAdapter);
  });

  it('takes the position-id offset from pad_token_id, and RobertaConfig default 1 when absent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-roberta-pad-'));
    try {
      await writeCheckpoint(dir, 'roberta', { numLabels: 2 });
      await editFixture(dir, { config: (c) => ({ ...c, pad_token_id: 3 }) });
      let ck = await Checkpoint.open(dir);
      expect((await robertaAdapter.load(ck)).embeddings.positionIds).toEqual({
        kind: 'padding-offset',
        padTokenId: 3,
      });
      await ck.close();
      await editFixture(dir, {
        config: (c) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'pad_token_id')),
      });
      ck = await Checkpoint.open(dir);
      const m = await robertaAdapter.load(ck);
      await ck.close();
      expect(m.embeddings.positionIds).toEqual({ kind: 'padding-offset', padTokenId: 1 });
      expect(m.dims.padTokenId).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a classifier checkpoint that also stores a pooler warns about it (RobertaForSequenceClassification has none)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-roberta-pool-'));
    try {
      await writeCheckpoint(dir, 'roberta', { numLabels: 2 });
      await editFixture(dir, {
        tensors: (ts) => [
          ...ts,
          {
            name: 'roberta.pooler.dense.weight',
            dtype: 'F32',
            shape: [16, 16],
            bytes: new Uint8Array(16 * 16 * 4),
          },
        ],
      });
      const warnings: string[] = [];
      const ck = await Checkpoint.open(dir);
      const m = await robertaAdapter.load(ck, { onWarning: (w) => warnings.push(w) });
      await ck.close();
      expect(warnings.join('\n')).toContain('roberta.pooler.dense.weight');
      expect(m.head?.kind === 'classification' && m.head.steps[0].linear.weight.name).toBe(
        'classifier.dense.weight',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
