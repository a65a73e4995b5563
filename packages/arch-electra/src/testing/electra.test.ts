import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '@fmn/testkit';
import { electraFixture } from './electra.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-fixture-electra-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ELECTRA fixture (HuggingFace layout)', () => {
  it('two default labels are not written (as save_pretrained omits defaults); regression sets problem_type', async () => {
    const two = await writeCheckpoint(join(root, 'two'), electraFixture, { numLabels: 2 });
    expect(two.config.id2label).toBeUndefined();
    const reg = await writeCheckpoint(join(root, 'reg'), electraFixture, { numLabels: 1 });
    expect(reg.config).toMatchObject({
      problem_type: 'regression',
      id2label: { 0: 'LABEL_0' },
      embedding_size: 8,
    });
    expect(reg.tensors.find((t) => t.name === 'classifier.out_proj.weight')?.shape).toEqual([1, 16]);
    expect(reg.tensors.find((t) => t.name === 'electra.embeddings_project.weight')?.shape).toEqual([16, 8]);
  });
});
