import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, fmn, ok, tempDir, userError, type RunResult } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const three = join(fx, 'bert', 'three-labels');
const reg = join(fx, 'bert', 'regression');
const data = (n: string) => join(fx, 'data', n);
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

/** Runs the binary with `input` on stdin. */
function withStdin(args: string[], input: string): Promise<RunResult> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

type Row = {
  id?: string | number;
  label?: string;
  probabilities?: number[];
  logits?: number[];
  score?: number;
};
const jsonl = (s: string): Row[] =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);

async function tsvColumns(file: string): Promise<string[][]> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
}

async function id2label(model: string): Promise<Record<string, string>> {
  return (
    JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as { id2label: Record<string, string> }
  ).id2label;
}

describe('fmn predict', () => {
  it('data without a label column: rows with id, the config label of the top probability, softmax of the logits', async () => {
    const rows = await tsvColumns(data('two.tsv'));
    const unlabelled = join(dir, 'unlabelled.tsv');
    await writeFile(unlabelled, ['id\tsentence', ...rows.map((r, i) => `ex${i}\t${r[0]}`)].join('\n') + '\n');
    const got = jsonl(
      await ok(['predict', '--model', two, '--data', unlabelled, '--backend', 'onnxruntime']),
    );
    const labelled = jsonl(
      await ok(['predict', '--model', two, '--data', data('two.tsv'), '--backend', 'onnxruntime']),
    );
    const names = await id2label(two);
    expect(got).toHaveLength(rows.length);
    got.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(['id', 'label', 'probabilities', 'logits']);
      expect(r.id).toBe(`ex${i}`);
      expect(r.logits).toEqual(labelled[i].logits);
      const [a, b] = r.logits!;
      const pb = 1 / (1 + Math.exp(a - b));
      expect(r.probabilities![0]).toBeCloseTo(1 - pb, 6);
      expect(r.probabilities![1]).toBeCloseTo(pb, 6);
      expect(r.label).toBe(names[b > a ? '1' : '0']);
    });
    expect(Object.keys(labelled[0])).toEqual(['label', 'probabilities', 'logits']);
  });

  it('--text (repeatable) and stdin (--data -) give the logits of the same sentences in a file', async () => {
    const rows = (await tsvColumns(data('two.tsv'))).slice(0, 3);
    const fromFile = jsonl(await ok(['predict', '--model', two, '--data', data('two.tsv')])).slice(0, 3);
    const fromText = jsonl(await ok(['predict', '--model', two, ...rows.flatMap((r) => ['--text', r[0]])]));
    const stdin = await withStdin(
      ['predict', '--model', two, '--data', '-'],
      rows.map((r) => r[0]).join('\n') + '\n',
    );
    expect(stdin.code, stdin.stderr).toBe(0);
    const fromStdin = jsonl(stdin.stdout);
    for (const got of [fromText, fromStdin]) {
      expect(got.map((r) => r.logits)).toEqual(fromFile.map((r) => r.logits));
      expect('id' in got[0]).toBe(false);
    }
  });

  it('sentence pairs: --text A --text-pair B, or A<TAB>B on stdin, as the pair columns of a file', async () => {
    const rows = (await tsvColumns(data('three.tsv'))).slice(0, 2);
    const fromFile = jsonl(await ok(['predict', '--model', three, '--data', data('three.tsv')])).slice(0, 2);
    const flags = rows.flatMap((r) => ['--text', r[0], '--text-pair', r[1]]);
    const fromFlags = jsonl(await ok(['predict', '--model', three, ...flags]));
    const stdin = await withStdin(
      ['predict', '--model', three, '--data', '-'],
      rows.map((r) => `${r[0]}\t${r[1]}`).join('\n'),
    );
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(fromFlags.map((r) => r.logits)).toEqual(fromFile.map((r) => r.logits));
    expect(jsonl(stdin.stdout).map((r) => r.logits)).toEqual(fromFile.map((r) => r.logits));
    expect(fromFlags[0].probabilities).toHaveLength(3);
  });

  it('a regression head prints {"score"}', async () => {
    const got = jsonl(
      await ok(['predict', '--model', reg, '--text', 'good movie', '--text-pair', 'great film']),
    );
    expect(got).toHaveLength(1);
    expect(Object.keys(got[0])).toEqual(['score']);
    expect(Number.isFinite(got[0].score)).toBe(true);
  });

  it('--out: JSON lines into the file; refuses the input file and an existing file without --force', async () => {
    const input = join(dir, 'in.tsv');
    await writeFile(input, 'sentence\ngood movie\nawful film\n');
    const out = join(dir, 'pred.jsonl');
    const text = await ok(['predict', '--model', two, '--data', input, '--out', out]);
    expect(text).toContain('wrote the predictions of 2 examples');
    expect(jsonl(await readFile(out, 'utf8'))).toHaveLength(2);
    expect(userError(await fmn(['predict', '--model', two, '--data', input, '--out', out]))).toMatch(
      /pred\.jsonl: --out already exists; add --force/,
    );
    const summary = JSON.parse(
      await ok(['predict', '--model', two, '--data', input, '--out', out, '--force', '--json']),
    ) as Record<string, unknown>;
    expect(summary).toMatchObject({ out, examples: 2, labels: 2 });
    expect(
      userError(await fmn(['predict', '--model', two, '--data', input, '--out', input, '--force'])),
    ).toMatch(/in\.tsv: --out is the input data file/);
    expect(await readFile(input, 'utf8')).toBe('sentence\ngood movie\nawful film\n');
  });

  it('usage errors: no texts, --data with --text, --text-pair counts', async () => {
    expect(userError(await fmn(['predict', '--model', two]))).toMatch(
      /--data FILE, --data - \(stdin\) or --text/,
    );
    expect(
      userError(await fmn(['predict', '--model', two, '--data', data('two.tsv'), '--text', 'x'])),
    ).toMatch(/not both/);
    expect(
      userError(await fmn(['predict', '--model', two, '--text', 'a', '--text', 'b', '--text-pair', 'c'])),
    ).toMatch(/one --text-pair per --text/);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)(
    `a table on a terminal${hasScript ? '' : ' (skipped: util-linux `script` is not installed, no pseudo-terminal)'}`,
    () => {
      const tty = execFileSync(
        'script',
        [
          '-qec',
          `"${process.execPath}" "${BIN}" predict --model "${two}" --text "good movie" --text "awful film" --quiet`,
          '/dev/null',
        ],
        { encoding: 'utf8' },
      );
      const lines = tty.replace(/\r/g, '').trimEnd().split('\n');
      expect(lines[0].split(/\s+/)).toEqual(['label', 'prob', 'text']);
      expect(lines.slice(1)).toHaveLength(2);
      expect(lines[1]).toMatch(/^\S+\s+\d\.\d{4}\s+good movie$/);
      expect(tty).not.toContain('{');
    },
  );
});
