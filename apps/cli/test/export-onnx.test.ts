import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fmn, tempDir } from './helpers.js';

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

  it('exports a model while onnxruntime-node cannot be loaded', async () => {
    const out = join(dir, 'no-ort', 'model.onnx');
    const r = await fmn(['export-onnx', '--model', two, '--out', out], blocked);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
    expect((await stat(`${out}_data`)).size).toBeGreaterThan(0);
  });
});
