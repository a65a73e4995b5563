import { cp, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI_DIR, fmn, ok, tempDir, userError } from './helpers.js';

/** A tiny BertForSequenceClassification saved by torch 1.13 as pytorch_model.bin (see packages/core/scripts). */
const TINY_TORCH = join(CLI_DIR, '..', '..', 'packages', 'core', 'src', 'torch', 'fixtures', 'tiny-bert');

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await cp(TINY_TORCH, join(dir, 'torch'), { recursive: true });
});
afterAll(() => cleanup());

interface InspectJson {
  tensors: { name: string; dtype: string; shape: number[] }[];
}

describe('fmn convert and pytorch_model.bin folders', () => {
  it('convert writes model.safetensors with the same tensors and copies config and tokenizer files', async () => {
    const out = join(dir, 'st');
    const stdout = await ok(['convert', join(dir, 'torch'), '--out', out]);
    expect(stdout).toMatch(
      /^converted 42 tensors .* -> .*model\.safetensors; copied config\.json, tokenizer_config\.json, vocab\.txt/,
    );
    expect((await readdir(out)).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    expect(await readFile(join(out, 'vocab.txt'), 'utf8')).toBe(
      await readFile(join(dir, 'torch', 'vocab.txt'), 'utf8'),
    );
    const a = JSON.parse(await ok(['inspect', join(dir, 'torch'), '--json'])) as InspectJson;
    const b = JSON.parse(await ok(['inspect', out, '--json'])) as InspectJson;
    expect(b.tensors).toEqual(a.tensors);
    expect(a.tensors.find((t) => t.name === 'bert.embeddings.position_ids')?.dtype).toBe('I64');
  });

  it('a pytorch_model.bin folder and its conversion give the same logits', async () => {
    const data = join(fx, 'data', 'two.tsv');
    const p1 = join(dir, 'torch.jsonl');
    const p2 = join(dir, 'st.jsonl');
    await ok([
      'predict',
      '--model',
      join(dir, 'torch'),
      '--data',
      data,
      '--out',
      p1,
      '--backend',
      'onnxruntime',
    ]);
    await ok([
      'predict',
      '--model',
      join(dir, 'st'),
      '--data',
      data,
      '--out',
      p2,
      '--backend',
      'onnxruntime',
    ]);
    const l1 = await readFile(p1, 'utf8');
    expect(l1.trim().split('\n')).toHaveLength(24);
    expect(await readFile(p2, 'utf8')).toBe(l1);
  });

  it('refuses the model folder, a folder holding it, an existing output and a malicious checkpoint, with one line each', async () => {
    const itself = userError(
      await fmn(['convert', join(dir, 'torch'), '--out', join(dir, 'torch'), '--force']),
    );
    expect(itself).toMatch(/--out is the model/);
    const holding = userError(await fmn(['convert', join(dir, 'torch'), '--out', dir, '--force']));
    expect(holding).toMatch(/--out contains the model/);
    await mkdir(join(dir, 'existing'));
    const exists = userError(await fmn(['convert', join(dir, 'torch'), '--out', join(dir, 'existing')]));
    expect(exists).toMatch(/--out already exists; add --force/);
    expect(await readdir(join(dir, 'existing'))).toEqual([]);
    const evil = join(dir, 'evil');
    await cp(join(dir, 'torch'), evil, { recursive: true });
    await cp(join(TINY_TORCH, '..', 'malicious-system.bin'), join(evil, 'pytorch_model.bin'));
    const line = userError(await fmn(['convert', evil, '--out', join(dir, 'evil-out')]));
    expect(line).toMatch(/pytorch_model\.bin: refusing to load: .*"posix\.system"/);
    expect((await readdir(dir)).includes('evil-out')).toBe(false);
  });
});
