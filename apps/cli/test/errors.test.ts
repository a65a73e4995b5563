import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, fmn, ok, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const data = (n: string) => join(fx, 'data', n);
let dir: string;
let cleanup: () => Promise<void>;
/** a copy of two-labels whose model.safetensors is cut short */
let truncated: string;
/** a copy of two-labels whose model.safetensors header is not JSON */
let garbled: string;

async function copyModel(to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const f of await readdir(two)) await copyFile(join(two, f), join(to, f));
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  truncated = join(dir, 'truncated');
  await copyModel(truncated);
  const bytes = await readFile(join(two, 'model.safetensors'));
  await writeFile(join(truncated, 'model.safetensors'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  garbled = join(dir, 'garbled');
  await copyModel(garbled);
  const g = Buffer.from(bytes);
  g.write('#'.repeat(16), 8);
  await writeFile(join(garbled, 'model.safetensors'), g);
});
afterAll(() => cleanup());

describe('missing files: one line naming the path, exit 1', () => {
  it.each([
    [
      'fisher model',
      ['fisher', '--model', 'no/such/model', '--data', data('two.tsv'), '--out', 'x.safetensors'],
      'no/such/model',
    ],
    [
      'fisher data',
      ['fisher', '--model', two, '--data', 'no/such.tsv', '--out', 'x.safetensors'],
      'no/such.tsv',
    ],
    ['eval model', ['eval', '--model', 'no/such/model', '--data', data('two.tsv')], 'no/such/model'],
    ['predict data', ['predict', '--model', two, '--data', 'no/such.tsv', '--out', 'x.jsonl'], 'no/such.tsv'],
    [
      'merge model',
      ['merge', '--method', 'average', '--model', two, '--model', 'no/such/model', '--out', 'o'],
      'no/such/model',
    ],
    [
      'merge Fisher',
      [
        'merge',
        '--method',
        'fisher-nodes',
        '--model',
        two,
        '--fisher',
        'no/f.safetensors',
        '--model',
        three,
        '--fisher',
        'no/g.safetensors',
        '--out',
        'o',
      ],
      'no/',
    ],
    [
      'combine shard',
      ['fisher', 'combine', 'no/a.safetensors', 'no/b.safetensors', '--out', 'c.safetensors'],
      'no/a.safetensors',
    ],
    ['inspect', ['inspect', 'no/such/thing'], 'no/such/thing'],
    ['run config', ['run', 'no/such.yaml'], 'no/such.yaml'],
    ['export model', ['export-onnx', '--model', 'no/such/model', '--out', 'x.onnx'], 'no/such/model'],
  ])('%s', async (_name, args, path) => {
    expect(userError(await fmn(args, { cwd: dir }))).toContain(path);
  });
});

describe('corrupt safetensors: one line naming the file, exit 1', () => {
  it.each([
    ['eval (truncated)', () => ['eval', '--model', truncated, '--data', data('two.tsv')]],
    [
      'fisher (truncated)',
      () => ['fisher', '--model', truncated, '--data', data('two.tsv'), '--out', join(dir, 'f.safetensors')],
    ],
    ['inspect (truncated)', () => ['inspect', truncated]],
    [
      'merge (garbled header)',
      () => ['merge', '--method', 'average', '--model', two, '--model', garbled, '--out', join(dir, 'm')],
    ],
    [
      'predict (garbled header)',
      () => ['predict', '--model', garbled, '--data', data('two.tsv'), '--out', join(dir, 'p.jsonl')],
    ],
  ])('%s', async (_name, args) => {
    const line = userError(await fmn(args()));
    expect(line).toContain('model.safetensors');
    expect(line).toMatch(/corrupt|invalid|truncat|header/i);
  });

  it('a corrupt Fisher file given to merge, combine or inspect', async () => {
    const bad = join(dir, 'bad.safetensors');
    await writeFile(bad, Buffer.from('not a safetensors file at all'));
    for (const args of [
      [
        'merge',
        '--method',
        'fisher-nodes',
        '--model',
        two,
        '--fisher',
        bad,
        '--model',
        three,
        '--fisher',
        bad,
        '--out',
        join(dir, 'm2'),
      ],
      ['fisher', 'combine', bad, '--out', join(dir, 'c.safetensors')],
      ['inspect', bad],
    ]) {
      expect(userError(await fmn(args))).toContain('bad.safetensors');
    }
  });

  it('a model safetensors file used as a Fisher file', async () => {
    const line = userError(
      await fmn([
        'merge',
        '--method',
        'fisher-nodes',
        '--model',
        two,
        '--fisher',
        join(two, 'model.safetensors'),
        '--model',
        three,
        '--fisher',
        join(three, 'model.safetensors'),
        '--out',
        join(dir, 'm3'),
      ]),
    );
    expect(line).toMatch(/Fisher/);
  });
});

describe('bad input that is not a path problem', () => {
  it('labels the model does not know, a model without a head, a bad backend name', async () => {
    expect(userError(await fmn(['eval', '--model', two, '--data', data('three.tsv')]))).toMatch(
      /three\.tsv.*not a label/,
    );
    expect(
      userError(await fmn(['eval', '--model', join(fx, 'bert', 'base'), '--data', data('two.tsv')])),
    ).toMatch(/no sequence-classification head/);
    expect(
      userError(await fmn(['eval', '--model', two, '--data', data('two.tsv'), '--backend', 'cuda'])),
    ).toMatch(/cuda.*onnxruntime/);
    expect(
      userError(
        await fmn([
          'fisher',
          '--model',
          two,
          '--data',
          data('two.tsv'),
          '--out',
          join(dir, 'x'),
          '--max-length',
          '4096',
        ]),
      ),
    ).toMatch(/--max-length/);
  });

  it('writing over a folder is a user error naming the path', async () => {
    const line = userError(await fmn(['predict', '--model', two, '--data', data('two.tsv'), '--out', dir]));
    expect(line).toContain(dir);
  });

  it('--debug adds the stack trace to a user error', async () => {
    const r = await fmn(['eval', '--model', 'no/such/model', '--data', data('two.tsv'), '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^fmn: .*no\/such\/model/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('progress bars on stderr', () => {
  it('none when stderr is not a terminal: stderr stays empty on success', async () => {
    const r = await fmn([
      'fisher',
      '--model',
      two,
      '--data',
      data('two.tsv'),
      '--samples',
      'all',
      '--batch-size',
      '4',
      '--out',
      join(dir, 'p0.safetensors'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!hasScript)(
    `with ETA in a terminal, none with --quiet${hasScript ? '' : ' (skipped: util-linux `script` is not installed, no pseudo-terminal)'}`,
    () => {
      const run = (name: string, extra: string) =>
        execFileSync(
          'script',
          [
            '-qec',
            `"${process.execPath}" "${BIN}" fisher --model "${two}" --data "${data('two.tsv')}" --samples all --batch-size 4 --out "${join(dir, name)}" ${extra}`,
            '/dev/null',
          ],
          { encoding: 'utf8' },
        );
      const tty = run('p1.safetensors', '');
      expect(tty).toMatch(/mask Fisher\s+\[.*\] 100% \| 24\/24 examples \| ETA \d+s/);
      const quiet = run('p2.safetensors', '--quiet');
      expect(quiet).not.toContain('ETA');
      expect(quiet).toContain('mask Fisher of');
    },
  );

  it('merge and eval report progress in a terminal too', { skip: !hasScript }, () => {
    const out = execFileSync(
      'script',
      [
        '-qec',
        `"${process.execPath}" "${BIN}" eval --model "${two}" --data "${data('two.tsv')}" --batch-size 4 && "${process.execPath}" "${BIN}" merge --method average --model "${two}" --model "${three}" --force --out "${join(dir, 'pm')}"`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/eval\s+\[.*\] 100% \| 24\/24 examples \| ETA/);
    expect(out).toMatch(/average merge\s+\[.*\] 100% \| \d+\/\d+ tensors \| ETA/);
  });
});

it('the ok helper really fails on a non-zero exit (sanity of the harness)', async () => {
  await expect(ok(['inspect', 'no/such/thing'])).rejects.toThrow(/exited with 1/);
});
