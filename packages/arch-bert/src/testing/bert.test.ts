import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '@fmn/core';
import { writeCheckpoint, writeFamily, wordPieceVocab } from '@fmn/testkit';
import { bertFixture } from './bert.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-fixture-bert-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Layer-0 names of BertForSequenceClassification as listed by model.state_dict() in transformers. */
const BERT_LAYER0 = [
  'attention.self.query.weight',
  'attention.self.query.bias',
  'attention.self.key.weight',
  'attention.self.key.bias',
  'attention.self.value.weight',
  'attention.self.value.bias',
  'attention.output.dense.weight',
  'attention.output.dense.bias',
  'attention.output.LayerNorm.weight',
  'attention.output.LayerNorm.bias',
  'intermediate.dense.weight',
  'intermediate.dense.bias',
  'output.dense.weight',
  'output.dense.bias',
  'output.LayerNorm.weight',
  'output.LayerNorm.bias',
].map((n) => `bert.encoder.layer.0.${n}`);

describe('BERT fixture (HuggingFace layout)', () => {
  it('BertForSequenceClassification: exact tensor names and shapes, HF config', async () => {
    const fx = await writeCheckpoint(join(root, 'bert'), bertFixture, { layers: 1, numLabels: 3 });
    const V = wordPieceVocab().length;
    const byName = new Map(fx.tensors.map((t) => [t.name, t.shape]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'bert.embeddings.word_embeddings.weight',
        'bert.embeddings.position_embeddings.weight',
        'bert.embeddings.token_type_embeddings.weight',
        'bert.embeddings.LayerNorm.weight',
        'bert.embeddings.LayerNorm.bias',
        ...BERT_LAYER0,
        'bert.pooler.dense.weight',
        'bert.pooler.dense.bias',
        'classifier.weight',
        'classifier.bias',
      ].sort(),
    );
    expect(byName.get('bert.embeddings.word_embeddings.weight')).toEqual([V, 16]);
    expect(byName.get('bert.encoder.layer.0.intermediate.dense.weight')).toEqual([24, 16]);
    expect(byName.get('bert.encoder.layer.0.output.dense.weight')).toEqual([16, 24]);
    expect(byName.get('classifier.weight')).toEqual([3, 16]);
    const text = await readFile(join(fx.dir, 'config.json'), 'utf8');
    const config = JSON.parse(text);
    expect(Object.keys(config)).toEqual(Object.keys(config).sort());
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      hidden_size: 16,
      num_attention_heads: 4,
      num_hidden_layers: 1,
      intermediate_size: 24,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
      type_vocab_size: 2,
      vocab_size: V,
      id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' },
      label2id: { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 },
    });
    expect(config.num_labels).toBeUndefined();
    // vocab.txt line i is token i, and tokenizer.json agrees
    const vocab = (await readFile(join(fx.dir, 'vocab.txt'), 'utf8')).trimEnd().split('\n');
    expect(vocab).toHaveLength(V);
    const tj = JSON.parse(await readFile(join(fx.dir, 'tokenizer.json'), 'utf8'));
    expect(tj.model.vocab['[CLS]']).toBe(vocab.indexOf('[CLS]'));
    expect(tj.model.type).toBe('WordPiece');
  });

  it('is deterministic in the seed, and a family perturbs the base slightly', async () => {
    const a = await writeCheckpoint(join(root, 's1'), bertFixture, { seed: 5 });
    const b = await writeCheckpoint(join(root, 's2'), bertFixture, { seed: 5 });
    expect(await readFile(join(a.dir, 'model.safetensors'))).toEqual(
      await readFile(join(b.dir, 'model.safetensors')),
    );
    const fam = await writeFamily(join(root, 'fam'), bertFixture, { seed: 5 });
    expect(fam.tasks.map((t) => t.numLabels)).toEqual([2, 3, 1]);
    const base = await Checkpoint.open(fam.base.dir);
    const task = await Checkpoint.open(fam.tasks[0].dir);
    const x = await base.readFloat32('encoder.layer.1.output.dense.weight');
    const y = await task.readFloat32('bert.encoder.layer.1.output.dense.weight');
    await base.close();
    await task.close();
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (y[i] - x[i]) ** 2;
    const std = Math.sqrt(s / x.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
  });
});
