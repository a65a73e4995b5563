import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI_DIR, fmn, ok, tempDir, userError } from './helpers.js';

/** A tiny BERT saved by torch as pytorch_model.bin, with vocab.txt and no tokenizer.json. */
const TINY_TORCH = join(CLI_DIR, '..', '..', 'packages', 'core', 'src', 'torch', 'fixtures', 'tiny-bert');

const fx = inject('fx');
let dir: string;
let bare: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // what model.save_pretrained() alone writes: config.json and the weights, no tokenizer files
  bare = join(dir, 'bare');
  await cp(TINY_TORCH, bare, { recursive: true });
  await rm(join(bare, 'vocab.txt'));
  await rm(join(bare, 'tokenizer_config.json'));
  // pre-tokenized examples in the tiny vocabulary ([CLS]=2, [SEP]=3, words from 5)
  const lines = Array.from({ length: 12 }, (_, i) => {
    const words = [5 + (i % 16), 5 + ((i * 7) % 16), 5 + ((i * 3 + 1) % 16)].slice(0, 2 + (i % 2));
    const ids = [2, ...words, 3];
    return JSON.stringify({ input_ids: ids, token_type_ids: ids.map(() => 0), label: i % 2 });
  });
  await writeFile(join(dir, 'tok.jsonl'), lines.join('\n') + '\n');
});
afterAll(() => cleanup());

describe('tokenizers: pre-tokenized data, --tokenizer, tokenizer.json in merged folders', () => {
  it('predict, eval and fisher run on pre-tokenized data with a model folder that has no tokenizer files', async () => {
    const data = join(dir, 'tok.jsonl');
    const a = join(dir, 'bare.jsonl');
    const b = join(dir, 'full.jsonl');
    await ok(['predict', '--model', bare, '--data', data, '--out', a, '--backend', 'onnxruntime']);
    await ok(['predict', '--model', TINY_TORCH, '--data', data, '--out', b, '--backend', 'onnxruntime']);
    expect((await readFile(a, 'utf8')).trim().split('\n')).toHaveLength(12);
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
    const metrics = JSON.parse(
      await ok(['eval', '--model', bare, '--data', data, '--json', '--backend', 'onnxruntime']),
    ) as { accuracy: number; examples: number };
    expect(metrics.examples).toBe(12);
    await ok([
      'fisher',
      '--model',
      bare,
      '--data',
      data,
      '--samples',
      'all',
      '--backend',
      'onnxruntime',
      '--out',
      join(dir, 'bare.fisher.safetensors'),
    ]);
  });

  it('text data on such a folder: one line suggesting --tokenizer; with --tokenizer it runs as with the tokenizer in place', async () => {
    const data = join(fx, 'data', 'two.tsv');
    const line = userError(
      await fmn([
        'predict',
        '--model',
        bare,
        '--data',
        data,
        '--out',
        join(dir, 'x.jsonl'),
        '--backend',
        'onnxruntime',
      ]),
    );
    expect(line).toMatch(/no tokenizer found.*--tokenizer DIR\|org\/name/);
    const a = join(dir, 'with-tokenizer.jsonl');
    const b = join(dir, 'own.jsonl');
    await ok([
      'predict',
      '--model',
      bare,
      '--tokenizer',
      TINY_TORCH,
      '--data',
      data,
      '--out',
      a,
      '--backend',
      'onnxruntime',
    ]);
    await ok(['predict', '--model', TINY_TORCH, '--data', data, '--out', b, '--backend', 'onnxruntime']);
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
  });

  it('merged folders carry tokenizer.json, built from vocab.txt when the inputs had none', async () => {
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    await cp(TINY_TORCH, one, { recursive: true });
    await cp(TINY_TORCH, two, { recursive: true });
    const out = join(dir, 'merged');
    await ok(['merge', '--method', 'average', '--model', one, '--model', two, '--out', out]);
    const folders = (await readdir(out, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders).toHaveLength(2);
    for (const f of folders) {
      const files = await readdir(join(out, f));
      expect(files).toEqual(
        expect.arrayContaining(['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json']),
      );
      const json = JSON.parse(await readFile(join(out, f, 'tokenizer.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      // WordPiece over the same vocabulary, with the post-processor that adds [CLS] ... [SEP]
      // (packages/data checks that the HuggingFace tokenizers library encodes with it)
      const vocab = (await readFile(join(TINY_TORCH, 'vocab.txt'), 'utf8')).trim().split('\n');
      expect(json.model).toMatchObject({
        type: 'WordPiece',
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      });
      expect(json.post_processor).toEqual({ type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] });
    }
  });
});
