import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, handFile, tempDir } from '../test/helpers.js';
import { Checkpoint } from './checkpoint.js';
import { writeSafetensors } from './safetensors.js';

const TORCH_FIXTURES = fileURLToPath(new URL('./torch/fixtures/', import.meta.url));
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const CONFIG = JSON.stringify({ model_type: 'bert', hidden_size: 4 });

async function singleFolder(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'config.json'), CONFIG);
  await writeSafetensors(join(dir, 'model.safetensors'), [
    { name: 'a.weight', dtype: 'F32', shape: [2], data: f32(1, 2) },
    { name: 'b.bias', dtype: 'F32', shape: [1, 3], data: f32(3, 4, 5) },
  ]);
  return dir;
}

async function shardedFolder(weightMap?: Record<string, unknown>): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'config.json'), CONFIG);
  await writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), [
    { name: 'a.weight', dtype: 'F32', shape: [2], data: f32(1, 2) },
    { name: 'unlisted', dtype: 'F32', shape: [1], data: f32(9) },
  ]);
  await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), [
    { name: 'b.bias', dtype: 'F32', shape: [3], data: f32(3, 4, 5) },
    { name: 'c', dtype: 'F32', shape: [1], data: f32(6) },
  ]);
  const map = weightMap ?? {
    'a.weight': 'model-00001-of-00002.safetensors',
    'b.bias': 'model-00002-of-00002.safetensors',
    c: 'model-00002-of-00002.safetensors',
  };
  await writeFile(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: 24 }, weight_map: map }),
  );
  return dir;
}

describe('Checkpoint', () => {
  it('single model.safetensors', async () => {
    const dir = await singleFolder();
    await writeFile(join(dir, 'vocab.txt'), '[PAD]\n');
    await writeFile(join(dir, 'tokenizer_config.json'), '{}');
    const ck = await Checkpoint.open(dir);
    try {
      expect(ck.modelType).toBe('bert');
      expect(ck.config.hidden_size).toBe(4);
      expect(ck.names().sort()).toEqual(['a.weight', 'b.bias']);
      expect(ck.has('a.weight')).toBe(true);
      expect(ck.info('b.bias')).toMatchObject({
        dtype: 'F32',
        shape: [1, 3],
        file: join(dir, 'model.safetensors'),
      });
      const before = ck.bytesRead;
      expect([...(await ck.readFloat32('b.bias'))]).toEqual([3, 4, 5]);
      expect(ck.bytesRead - before).toBe(12);
      expect((await ck.tokenizerFiles()).sort()).toEqual(['tokenizer_config.json', 'vocab.txt']);
      expect(() => ck.info('zzz')).toThrow(/no tensor named "zzz" in the checkpoint/);
      await expectFmnError(ck.read('zzz'), /no tensor named "zzz"/, dir);
    } finally {
      await ck.close();
    }
  });

  it('sharded: model.safetensors.index.json with two shards', async () => {
    const dir = await shardedFolder();
    const ck = await Checkpoint.open(dir);
    try {
      // the index decides which tensors exist; a tensor only in a shard is not part of the model
      expect(ck.names().sort()).toEqual(['a.weight', 'b.bias', 'c']);
      expect(ck.has('unlisted')).toBe(false);
      expect(ck.info('a.weight').file).toBe(join(dir, 'model-00001-of-00002.safetensors'));
      expect(ck.info('c').file).toBe(join(dir, 'model-00002-of-00002.safetensors'));
      expect([...(await ck.readFloat32('a.weight'))]).toEqual([1, 2]);
      expect([...(await ck.readFloat32('b.bias'))]).toEqual([3, 4, 5]);
      expect([...(await ck.readFloat32('c'))]).toEqual([6]);
    } finally {
      await ck.close();
    }
  });

  it('folder with only pytorch_model.bin: read by the safe torch reader', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), CONFIG);
    await copyFile(join(TORCH_FIXTURES, 'zip.bin'), join(dir, 'pytorch_model.bin'));
    const expected = JSON.parse(await readFile(join(TORCH_FIXTURES, 'zip.expected.json'), 'utf8')) as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    const ck = await Checkpoint.open(dir);
    try {
      expect(ck.names()).toEqual(Object.keys(expected));
      expect(ck.info('encoder.weight').file).toBe(join(dir, 'pytorch_model.bin'));
      expect(ck.info('encoder.weight').shape).toEqual(expected['encoder.weight']!.shape);
      expect([...(await ck.readFloat32('encoder.bias'))]).toEqual(
        expected['encoder.bias']!.values.map((v) => Math.fround(v)),
      );
    } finally {
      await ck.close();
    }
  });

  it('sharded pytorch_model-*.bin with pytorch_model.bin.index.json', async () => {
    const dir = join(TORCH_FIXTURES, 'sharded');
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    const ck = await Checkpoint.open(dir);
    try {
      expect(ck.names().sort()).toEqual(Object.keys(expected).sort());
      for (const [name, e] of Object.entries(expected)) {
        expect(ck.info(name).shape).toEqual(e.shape);
        expect([...(await ck.readFloat32(name))]).toEqual(e.values.map((v) => Math.fround(v)));
      }
      expect(ck.info('b.weight').file).toBe(join(dir, 'pytorch_model-00002-of-00002.bin'));
    } finally {
      await ck.close();
    }
  });

  it('LayerNorm.gamma / LayerNorm.beta of older checkpoints read as LayerNorm.weight / LayerNorm.bias', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), CONFIG);
    await copyFile(join(TORCH_FIXTURES, 'layernorm-gamma-beta.bin'), join(dir, 'pytorch_model.bin'));
    const expected = JSON.parse(
      await readFile(join(TORCH_FIXTURES, 'layernorm-gamma-beta.expected.json'), 'utf8'),
    ) as Record<string, { shape: number[]; values: number[] }>;
    const ck = await Checkpoint.open(dir);
    try {
      expect(ck.names()).toEqual([
        'bert.embeddings.LayerNorm.weight',
        'bert.embeddings.LayerNorm.bias',
        'bert.pooler.dense.weight',
      ]);
      expect(ck.has('bert.embeddings.LayerNorm.gamma')).toBe(false);
      expect(ck.info('bert.embeddings.LayerNorm.weight').name).toBe('bert.embeddings.LayerNorm.weight');
      expect([...(await ck.readFloat32('bert.embeddings.LayerNorm.bias'))]).toEqual(
        expected['bert.embeddings.LayerNorm.beta']!.values.map((v) => Math.fround(v)),
      );
    } finally {
      await ck.close();
    }
  });

  it('a pytorch_model.bin that is not a checkpoint: the error names the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), CONFIG);
    await writeFile(join(dir, 'pytorch_model.bin'), 'PK');
    await expectFmnError(Checkpoint.open(dir), /not a PyTorch checkpoint/, join(dir, 'pytorch_model.bin'));
  });

  it('model.safetensors is preferred over pytorch_model.bin', async () => {
    const dir = await singleFolder();
    await writeFile(join(dir, 'pytorch_model.bin'), 'not read');
    const ck = await Checkpoint.open(dir);
    expect(ck.names()).toEqual(['a.weight', 'b.bias']);
    await ck.close();
  });

  it('missing config.json', async () => {
    const dir = await tempDir();
    await writeSafetensors(join(dir, 'model.safetensors'), [
      { name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array(1) },
    ]);
    await expectFmnError(Checkpoint.open(dir), /config\.json not found/, dir);
  });

  it('invalid config.json', async () => {
    const dir = await singleFolder();
    const config = join(dir, 'config.json');
    await writeFile(config, '{"model_type": "bert",');
    await expectFmnError(Checkpoint.open(dir), /invalid JSON in config\.json/, config);
    await writeFile(config, '["bert"]');
    await expectFmnError(Checkpoint.open(dir), /config\.json is not a JSON object/, config);
  });

  it('no weights at all', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), CONFIG);
    await writeFile(join(dir, 'vocab.txt'), 'x');
    await expectFmnError(
      Checkpoint.open(dir),
      /no weights found \(expected model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin or pytorch_model\.bin\.index\.json\)/,
      dir,
    );
  });

  it('tensor listed in the index but absent from its shard', async () => {
    const dir = await shardedFolder({
      'a.weight': 'model-00001-of-00002.safetensors',
      ghost: 'model-00002-of-00002.safetensors',
    });
    await expectFmnError(
      Checkpoint.open(dir),
      /tensor "ghost" is listed in the index but not in this shard/,
      join(dir, 'model-00002-of-00002.safetensors'),
    );
  });

  it('missing shard', async () => {
    const dir = await shardedFolder({
      'a.weight': 'model-00001-of-00002.safetensors',
      'b.bias': 'model-00003-of-00003.safetensors',
    });
    const err = await expectFmnError(
      Checkpoint.open(dir),
      /missing shard "model-00003-of-00003\.safetensors"/,
      join(dir, 'model-00003-of-00003.safetensors'),
    );
    expect(err.message).toContain('model.safetensors.index.json');
  });

  it('invalid index: no weight_map, empty map, non-string or escaping shard names, bad JSON', async () => {
    const dir = await shardedFolder();
    const index = join(dir, 'model.safetensors.index.json');
    await writeFile(index, JSON.stringify({ metadata: {} }));
    await expectFmnError(Checkpoint.open(dir), /index has no "weight_map" object/, index);
    await writeFile(index, 'null');
    await expectFmnError(Checkpoint.open(dir), /index has no "weight_map" object/, index);
    await writeFile(index, JSON.stringify({ weight_map: {} }));
    await expectFmnError(Checkpoint.open(dir), /lists no tensors/, index);
    await writeFile(index, JSON.stringify({ weight_map: { a: 3 } }));
    await expectFmnError(Checkpoint.open(dir), /maps "a" to 3, not a file name/, index);
    await writeFile(index, JSON.stringify({ weight_map: { a: '../../etc/model.safetensors' } }));
    await expectFmnError(Checkpoint.open(dir), /outside the model folder/, index);
    await writeFile(index, '{"weight_map": ');
    await expectFmnError(Checkpoint.open(dir), /invalid JSON in safetensors index/, index);
  });

  it('a corrupt shard is reported by its own path', async () => {
    const dir = await shardedFolder();
    const shard = join(dir, 'model-00002-of-00002.safetensors');
    await handFile(shard, '{"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', new Uint8Array(4));
    await expectFmnError(Checkpoint.open(dir), /header is not valid JSON/, shard);
  });

  it('missing folder, or a file instead of a folder', async () => {
    const dir = await tempDir();
    await expectFmnError(Checkpoint.open(join(dir, 'nope')), /model folder not found/, join(dir, 'nope'));
    await writeFile(join(dir, 'file'), 'x');
    await expectFmnError(Checkpoint.open(join(dir, 'file')), /not a folder/, join(dir, 'file'));
    await mkdir(join(dir, 'empty'));
    await expectFmnError(Checkpoint.open(join(dir, 'empty')), /config\.json not found/, join(dir, 'empty'));
  });
});
