import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPath, isModelFileName } from './output-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'fmn-output-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'model');
mkdirSync(model);
writeFileSync(join(model, 'model.safetensors'), '');
writeFileSync(join(dir, 'train.tsv'), '');
symlinkSync(model, join(dir, 'link-to-model'));

describe('checkOutputPath', () => {
  const inputs = [
    { path: model, what: 'the model' },
    { path: join(dir, 'train.tsv'), what: 'the data' },
  ];
  it("refuses an input, a model's own file (also through a symlink or ..), and a folder holding an input", async () => {
    const file = { kind: 'file' as const, force: true };
    await expect(checkOutputPath(join(dir, 'train.tsv'), inputs, file)).rejects.toThrow('--out is the data');
    await expect(
      checkOutputPath(join(dir, 'link-to-model', 'model.safetensors'), inputs, file),
    ).rejects.toThrow('would replace model.safetensors, a file of the model');
    await expect(checkOutputPath(join(model, '..', 'model', 'vocab.txt'), inputs, file)).rejects.toThrow(
      'would replace vocab.txt',
    );
    await expect(checkOutputPath(dir, inputs, { kind: 'folder', force: true })).rejects.toThrow(
      '--out contains the model',
    );
  });

  it('lets a new file through, and an existing one only with force', async () => {
    await expect(
      checkOutputPath(join(model, 'fisher.safetensors'), inputs, { kind: 'file' }),
    ).resolves.toBeUndefined();
    writeFileSync(join(dir, 'old.safetensors'), 'x');
    await expect(checkOutputPath(join(dir, 'old.safetensors'), inputs, { kind: 'file' })).rejects.toThrow(
      '--out already exists; add --force to replace it',
    );
    await expect(
      checkOutputPath(join(dir, 'old.safetensors'), inputs, { kind: 'file', force: true }),
    ).resolves.toBeUndefined();
    await expect(checkOutputPath(model + '-out', inputs, { kind: 'folder' })).resolves.toBeUndefined();
  });

  it('first restores an output that a killed --force run had moved aside, which then needs --force', async () => {
    const pid = spawnSync(process.execPath, ['-e', '']).pid;
    const backup = join(dir, `.merged.fmn-old-${pid}-0badcafe`);
    mkdirSync(backup);
    writeFileSync(join(backup, 'merge-report.json'), '{}');
    mkdirSync(join(dir, `.merged.fmn-tmp-${pid}-0badcafe`));
    await expect(checkOutputPath(join(dir, 'merged'), inputs, { kind: 'folder' })).rejects.toThrow(
      '--out already exists (restored from an interrupted --force run); add --force to replace it',
    );
    expect(readdirSync(join(dir, 'merged'))).toEqual(['merge-report.json']);
    expect(readdirSync(dir).filter((f) => f.includes('merged'))).toEqual(['merged']);
  });

  it("knows a model folder's files by name", () => {
    for (const n of [
      'model.safetensors',
      'model-00001-of-00002.safetensors',
      'pytorch_model.bin',
      'pytorch_model.bin.index.json',
      'config.json',
      'tokenizer.json',
    ])
      expect(isModelFileName(n), n).toBe(true);
    for (const n of ['fisher.safetensors', 'sst2.fisher.safetensors', 'model.onnx'])
      expect(isModelFileName(n), n).toBe(false);
  });
});
