import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fmn, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/**
 * A module-resolution hook (node --import) under which onnxruntime-node cannot be loaded: every
 * import of it fails, as on a platform without its native binaries.
 */
const BLOCK_ORT =
  'data:text/javascript,' +
  encodeURIComponent(
    `import { register } from 'node:module';
     register('data:text/javascript,' + encodeURIComponent(
       'export async function resolve(s, c, next) {' +
       '  if (s === "onnxruntime-node" || s.startsWith("onnxruntime-node/"))' +
       '    throw new Error("onnxruntime-node is blocked by the test");' +
       '  return next(s, c);' +
       '}'));`,
  );
const blocked = { env: { NODE_OPTIONS: `--import=${BLOCK_ORT}` } };

describe('fmn export-onnx needs no ONNX runtime', () => {
  it('the hook does block onnxruntime-node (predict on the onnxruntime backend fails under it)', async () => {
    const data = join(fx, 'data', 'two.tsv');
    const r = await fmn(['predict', '--model', two, '--data', data, '--backend', 'onnxruntime'], blocked);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/onnxruntime/);
  });

  it('exports a model (.onnx file and transformers.js folder) while onnxruntime-node cannot be loaded', async () => {
    const out = join(dir, 'no-ort', 'model.onnx');
    const r = await fmn(['export-onnx', '--model', two, '--out', out], blocked);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
    expect((await stat(`${out}_data`)).size).toBeGreaterThan(0);
    const folder = join(dir, 'no-ort-folder');
    const f = await fmn(['export-onnx', '--model', two, '--out', folder], blocked);
    expect(f.stderr).toBe('');
    expect(f.code).toBe(0);
    expect((await stat(join(folder, 'onnx', 'model.onnx'))).size).toBeGreaterThan(0);
  });
});

describe('fmn export-onnx --out FOLDER (transformers.js layout)', () => {
  it('writes config.json, the tokenizer files and onnx/model.onnx with the weights inside', async () => {
    const out = join(dir, 'layout');
    const stdout = await ok(['export-onnx', '--model', two, '--out', out]);
    expect(stdout).toContain(`exported bert model (2 labels) for transformers.js -> ${out}`);
    expect((await readdir(out)).sort()).toEqual([
      'config.json',
      'onnx',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    expect(await readdir(join(out, 'onnx'))).toEqual(['model.onnx']);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const source = JSON.parse(await readFile(join(two, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({ ...source, 'transformers.js_config': { dtype: 'fp32' } });
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
      expect(await readFile(join(out, f), 'utf8'), f).toBe(await readFile(join(two, f), 'utf8'));
    }
    // no temp folder left beside the output
    expect((await readdir(dir)).filter((f) => f.startsWith('layout'))).toEqual(['layout']);
  });

  it('refuses an existing --out without --force and replaces it with --force (folder and .onnx file)', async () => {
    const folder = join(dir, 'exists');
    await ok(['export-onnx', '--model', two, '--out', folder]);
    await writeFile(join(folder, 'stale.txt'), 'old');
    expect(userError(await fmn(['export-onnx', '--model', two, '--out', folder]))).toMatch(
      /exists: --out already exists; add --force to replace it/,
    );
    await ok(['export-onnx', '--model', two, '--out', folder, '--force']);
    expect(await readdir(folder)).not.toContain('stale.txt');

    const file = join(dir, 'exists.onnx');
    await ok(['export-onnx', '--model', two, '--out', file]);
    expect(userError(await fmn(['export-onnx', '--model', two, '--out', file]))).toMatch(
      /exists\.onnx: --out already exists; add --force to replace it/,
    );
    await ok(['export-onnx', '--model', two, '--out', file, '--force']);
  });

  it('refuses an --out inside or equal to an input model folder', async () => {
    expect(userError(await fmn(['export-onnx', '--model', two, '--out', two, '--force']))).toMatch(
      /--out is input model 1/,
    );
  });
});
