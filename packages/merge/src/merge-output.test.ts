/** The output folder: one folder per input, copied files, report hashes, dtypes, atomicity, --force. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { writeFakeFullFisher } from '../test/fake.js';
import { constant, expectFmnError, model, readOut, root, run } from '../test/harness.js';
import { outputNames } from './index.js';

describe('output', () => {
  it('one folder per input (unique names), config and tokenizer files copied, report with content hashes', async () => {
    const a = await model('x/m', { seed: 1 });
    const b = await model('y/m', { seed: 2, vocabTxt: '[PAD]\n[CLS]\n[SEP]\na\nb\n' });
    const { out, report } = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] });
    expect((await readdir(out)).sort()).toEqual(['m', 'm-2', 'merge-report.json']);
    for (const [dir, name] of [
      [a.dir, 'm'],
      [b.dir, 'm-2'],
    ]) {
      expect((await readdir(join(out, name))).sort()).toEqual([
        'config.json',
        'model.safetensors',
        'tokenizer_config.json',
        'vocab.txt',
      ]);
      for (const f of ['config.json', 'tokenizer_config.json', 'vocab.txt']) {
        expect(await readFile(join(out, name, f), 'utf8')).toBe(await readFile(join(dir, f), 'utf8'));
      }
    }
    const sha = createHash('sha256')
      .update(await readFile(join(b.dir, 'model.safetensors')))
      .digest('hex');
    expect(report.inputs[1].weights[0].sha256).toBe(sha);
    expect(report.inputs.map((i) => i.output)).toEqual(['m', 'm-2']);
    expect([...report.inputs[0].taskHeadTensors].sort()).toEqual(['head.bias', 'head.weight']);
    expect(JSON.parse(await readFile(join(out, 'merge-report.json'), 'utf8'))).toEqual(report);
    expect(Object.keys(report.shares)).toEqual(['embeddings-and-shared', 'layer 0', 'layer 1', 'all']);
  });

  it.each([
    [
      'a FIFO',
      (p: string) => execFileSync('mkfifo', [p]),
      /is a FIFO \(named pipe\), a regular file was expected/,
    ],
    [
      'a symlink to /dev/zero',
      (p: string) => symlinkSync('/dev/zero', p),
      /is a device, a regular file was expected/,
    ],
  ])(
    'a vocab.txt that is %s is an error naming it, not a hang',
    async (_what, make, message) => {
      const a = await model('fifo-a', { seed: 1 });
      const b = await model('fifo-b', { seed: 2 });
      const vocab = join(b.dir, 'vocab.txt');
      await rm(vocab);
      make(vocab);
      const out = join(root, 'fifo-out');
      // before the fix, hashing the vocabulary read the FIFO (or /dev/zero) forever: the test timed out
      const err = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }], out }).catch(
        (e: unknown) => e,
      );
      expect(isFmnError(err)).toBe(true);
      expect((err as Error).message).toContain(vocab);
      expect((err as Error).message).toMatch(message);
      await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    },
    10_000,
  );

  it('--force never replaces an input model, its Fisher file or a folder holding an input', async () => {
    const a = await model('guard/a', { seed: 1 });
    const b = await model('guard/b', { seed: 2 });
    const weights = await readFile(join(a.dir, 'model.safetensors'));
    for (const [out, message] of [
      [a.dir, /--out is input model 1/],
      [join(root, 'guard'), /--out contains input model 1/],
    ] as const) {
      const err = await run({
        method: 'average',
        models: [{ dir: a.dir }, { dir: b.dir }],
        out,
        force: true,
      }).catch((e: unknown) => e);
      expect(isFmnError(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
    expect(await readFile(join(a.dir, 'model.safetensors'))).toEqual(weights);
  });

  it('output folder names: the input folder names, made unique with -2, -3, ...; never merge-report.json', () => {
    expect(outputNames(['a/x', 'b/x', 'c/x-2', 'd/y', 'e/x', 'f/merge-report.json'])).toEqual([
      'x',
      'x-2',
      'x-2-2',
      'y',
      'x-3',
      'merge-report.json-2',
    ]);
  });

  it('fp16 in -> fp16 out, rounded to nearest even; dtype override writes F32', async () => {
    const a = await model('a', { values: constant(1), dtype: 'F16' });
    const b = await model('b', { values: constant(1 + 2 ** -10), dtype: 'F16' });
    const { out } = await run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] });
    const got = await readOut(join(out, 'a'));
    for (const [, t] of got) expect(t.dtype).toBe('F16');
    // mean 1 + 2^-11 is a tie between 1 and 1 + 2^-10: rounds to the even one, 1
    expect(got.get('layer.0.q.weight')!.values[0]).toBe(1);
    const { out: out32 } = await run({
      method: 'average',
      dtype: 'F32',
      out: join(root, 'o32'),
      models: [{ dir: a.dir }, { dir: b.dir }],
    });
    const got32 = await readOut(join(out32, 'b'));
    expect(got32.get('layer.0.q.weight')!.dtype).toBe('F32');
    expect(got32.get('layer.0.q.weight')!.values[0]).toBe(1 + 2 ** -11);
    expect(got32.get('head.weight')!.values[0]).toBe(1 + 2 ** -10);
  });

  it('is atomic: a failure in the middle leaves no output folder and no temp files', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const fa = join(root, 'fa.safetensors');
    const fb = join(root, 'fb.safetensors');
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n).fill(1));
    // the last merged tensor has a negative value
    await writeFakeFullFisher(fb, (name, n) => new Float32Array(n).fill(name === 'pooler.bias' ? -1 : 1));
    const parent = join(root, 'outs');
    await mkdir(parent);
    await expectFmnError(
      run({
        method: 'fisher',
        out: join(parent, 'merged'),
        models: [
          { dir: a.dir, fisher: fa },
          { dir: b.dir, fisher: fb },
        ],
      }),
      /fb\.safetensors.*"pooler\.bias" has a negative value/,
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it('an existing output folder is an error unless force', async () => {
    const a = await model('a', { values: constant(0) });
    const b = await model('b', { values: constant(2) });
    const out = join(root, 'out');
    await mkdir(out);
    await writeFile(join(out, 'old.txt'), 'old');
    await expectFmnError(
      run({ method: 'average', models: [{ dir: a.dir }, { dir: b.dir }] }),
      /already exists/,
    );
    await run({ method: 'average', force: true, models: [{ dir: a.dir }, { dir: b.dir }] });
    expect((await readdir(out)).sort()).toEqual(['a', 'b', 'merge-report.json']);
  });
});
