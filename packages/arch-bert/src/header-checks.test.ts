/**
 * config.json against the weights' header, checked when the checkpoint is opened (before any
 * tensor is read or anything sized from the config is allocated): every inconsistency is an
 * FmnError naming config.json and the weights file.
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, FmnError, SafetensorsFile, getAdapter, type HfConfig } from '@fmn/core';
import { editFixture, writeCheckpoint } from '@fmn/testkit';
import './index.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-bert-header-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A small BERT classifier (hidden 8, 2 layers, 2 labels) with `config` edited. */
async function model(edit?: (c: HfConfig) => HfConfig): Promise<string> {
  const fx = await writeCheckpoint(join(root, `m${n++}`), 'bert', {
    hidden: 8,
    heads: 2,
    layers: 2,
    intermediate: 16,
  });
  if (edit) await editFixture(fx.dir, { config: edit });
  return fx.dir;
}

async function openError(dir: string): Promise<FmnError> {
  const e = await Checkpoint.open(dir).then(
    async (ck) => {
      await ck.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e, 'expected Checkpoint.open to fail').toBeInstanceOf(FmnError);
  return e as FmnError;
}

describe('config.json vs the header, at open', () => {
  it('the unedited fixture opens', async () => {
    await (await Checkpoint.open(await model())).close();
  });

  it('num_hidden_layers 1e9 is refused by its bound before anything is sized from it', async () => {
    const dir = await model((c) => ({ ...c, num_hidden_layers: 1e9 }));
    const e = await openError(dir);
    expect(e.message).toBe(
      `${join(dir, 'config.json')}: "num_hidden_layers" in config.json is 1000000000, above fmn's limit of 1024`,
    );
  });

  it('more layers in the config than in the file: the missing tensors, naming the folder and config.json', async () => {
    const dir = await model((c) => ({ ...c, num_hidden_layers: 3 }));
    const e = await openError(dir);
    expect(e.message).toContain(dir);
    expect(e.message).toContain(join(dir, 'config.json'));
    expect(e.message).toMatch(/missing 16 tensors .*bert\.encoder\.layer\.2\.attention\.self\.query\.weight/);
  });

  it('a config value of -1e400 is reported as -Infinity, not null', async () => {
    const dir = await model();
    const path = join(dir, 'config.json');
    const text = (await readFile(path, 'utf8')).replace(/"hidden_size": \d+/, '"hidden_size": -1e400');
    await writeFile(path, text);
    expect((await openError(dir)).message).toContain(
      '"hidden_size" in config.json must be a non-negative integer, got -Infinity',
    );
  });

  it('max_position_embeddings smaller than the position table names config.json and the weights file', async () => {
    const dir = await model((c) => ({ ...c, max_position_embeddings: 4 }));
    const e = await openError(dir);
    expect(e.file).toBe(join(dir, 'model.safetensors'));
    expect(e.message).toContain(join(dir, 'config.json'));
    expect(e.message).toMatch(
      /"bert\.embeddings\.position_embeddings\.weight" has shape \[\d+, 8\], expected \[4, 8\]/,
    );
  });

  it('id2label with 3 labels while the classifier has 2 rows', async () => {
    const dir = await model((c) => ({ ...c, id2label: { 0: 'a', 1: 'b', 2: 'c' }, label2id: undefined }));
    const e = await openError(dir);
    expect(e.file).toBe(join(dir, 'config.json'));
    expect(e.message).toContain(`"classifier.weight" in ${join(dir, 'model.safetensors')} has 2 rows`);
  });

  it('id2label keys that are not 0..n-1', async () => {
    const dir = await model((c) => ({ ...c, id2label: { 0: 'a', 5: 'b' } }));
    expect((await openError(dir)).message).toContain(
      '"id2label" in config.json must have the keys "0".."1", found "5"',
    );
  });

  it('a sequence-classification config whose head tensors are missing from the header', async () => {
    const dir = await model();
    await editFixture(dir, { tensors: (ts) => ts.filter((t) => !t.name.startsWith('classifier.')) });
    const e = await openError(dir);
    expect(e.message).toMatch(
      /missing 2 tensors for a BertForSequenceClassification model.*classifier\.weight, classifier\.bias/,
    );
  });

  it('a header claiming a 10M-row head in a sparse file is refused at open, before it is read', async () => {
    const dir = await model();
    const path = join(dir, 'model.safetensors');
    const f = await SafetensorsFile.open(path);
    const infos = f.names().map((name) => f.info(name));
    await f.close();
    // rebuild the header with classifier.weight as [10_000_000, 8] F32 (320 MB), placed last
    const header: Record<string, unknown> = {};
    const src = await open(path, 'r');
    const chunks: Buffer[] = [];
    let offset = 0;
    const oldStart = 8 + Number((await src.read(Buffer.alloc(8), 0, 8, 0)).buffer.readBigUInt64LE(0));
    for (const t of infos.filter((i) => i.name !== 'classifier.weight')) {
      const buf = Buffer.alloc(t.end - t.begin);
      await src.read(buf, 0, buf.length, oldStart + t.begin);
      chunks.push(buf);
      header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
      offset += buf.length;
    }
    await src.close();
    const big = 10_000_000 * 8 * 4;
    header['classifier.weight'] = {
      dtype: 'F32',
      shape: [10_000_000, 8],
      data_offsets: [offset, offset + big],
    };
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const out = await open(path, 'w');
    await out.write(Buffer.concat([prefix, json, ...chunks]));
    await out.truncate(8 + json.length + offset + big); // sparse: the 320 MB are never written
    await out.close();
    const e = await openError(dir);
    expect(e.message).toContain(
      'config.json gives 2 labels (num_labels / id2label) but the head\'s "classifier.weight"',
    );
    expect(e.message).toContain('has 10000000 rows');
  });

  it('the unused-tensor warning does not repeat the folder (the caller names it once)', async () => {
    const dir = await model();
    await editFixture(dir, {
      tensors: (ts) => [...ts, { name: 'extra.weight', dtype: 'F32', shape: [1], bytes: new Uint8Array(4) }],
    });
    const ck = await Checkpoint.open(dir);
    const warnings: string[] = [];
    try {
      await getAdapter('bert')!.load(ck, { onWarning: (m) => warnings.push(m) });
    } finally {
      await ck.close();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ignoring 1 tensor that .* does not use: extra\.weight$/);
    expect(warnings[0]).not.toContain(dir);
  });
});
