import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '@fmn/core';
import { bytesToUnicode, writeCheckpoint } from '@fmn/testkit';
import { robertaFixture } from './roberta.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-fixture-roberta-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('RoBERTa fixture (HuggingFace layout)', () => {
  it('RoBERTa: position table of max length + pad + 1 rows, one token type, zero padding rows, BPE tokenizer', async () => {
    const fx = await writeCheckpoint(join(root, 'roberta'), robertaFixture, { maxLength: 10 });
    expect(fx.config).toMatchObject({
      max_position_embeddings: 12,
      pad_token_id: 1,
      type_vocab_size: 1,
      bos_token_id: 0,
      eos_token_id: 2,
    });
    expect(fx.tensors.some((t) => t.name.includes('pooler'))).toBe(false);
    const ck = await Checkpoint.open(fx.dir);
    const pos = await ck.readFloat32('roberta.embeddings.position_embeddings.weight');
    await ck.close();
    expect([...pos.subarray(16, 32)].every((v) => v === 0)).toBe(true);
    expect([...pos.subarray(0, 16)].some((v) => v !== 0)).toBe(true);
    const vocab = JSON.parse(await readFile(join(fx.dir, 'vocab.json'), 'utf8'));
    expect(vocab['<s>']).toBe(0);
    expect(vocab['<pad>']).toBe(1);
    expect(vocab['</s>']).toBe(2);
    expect(Object.keys(vocab)).toHaveLength(fx.config.vocab_size as number);
    for (const c of bytesToUnicode()) expect(vocab[c]).toBeDefined();
    expect(bytesToUnicode()[32]).toBe('Ġ');
    const merges = (await readFile(join(fx.dir, 'merges.txt'), 'utf8')).split('\n');
    expect(merges[0]).toBe('#version: 0.2');
  });
});
