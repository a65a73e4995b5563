import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { loadDataset } from './dataset.js';
import { MAX_DATA_FILE_BYTES, MAX_EXAMPLES, MAX_LINE_CHARS } from './limits.js';
import { readTable } from './tables.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-data-limits-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(name: string, text: string): Promise<string> {
  const path = join(root, name);
  await writeFile(path, text);
  return path;
}

async function errorOf(p: Promise<unknown>): Promise<FmnError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FmnError);
  return e as FmnError;
}

const long = 'x'.repeat(MAX_LINE_CHARS + 1);

describe('data limits', () => {
  it('a line over the limit is an error naming the file and line (TSV, CSV quoted and unquoted, JSONL)', async () => {
    const cases: [string, string][] = [
      ['long.tsv', `sentence\tlabel\nok\t1\n${long}\t0\n`],
      ['long.csv', `sentence,label\nok,1\n${long},0\n`],
      ['longq.csv', `sentence,label\nok,1\n"${long}",0\n`],
      ['long.jsonl', `{"sentence":"ok","label":1}\n{"sentence":"${long}","label":0}\n`],
    ];
    for (const [name, text] of cases) {
      const file = await put(name, text);
      const e = await errorOf(loadDataset(file));
      expect(e.file).toBe(file);
      expect(e.message).toMatch(/line [23]: longer than the 1000000-character limit/);
    }
  });

  it('a line at the limit is read', async () => {
    const file = await put('atlimit.tsv', `sentence\tlabel\n${'y'.repeat(MAX_LINE_CHARS - 2)}\t1\n`);
    const ds = await loadDataset(file);
    expect(ds.examples).toHaveLength(1);
  });

  it('a data file over the size limit is refused before it is read (sparse file)', async () => {
    const file = await put('huge.tsv', 'sentence\tlabel\n');
    await truncate(file, MAX_DATA_FILE_BYTES + 1);
    const e = await errorOf(loadDataset(file));
    expect(e.file).toBe(file);
    expect(e.message).toContain(`more than the ${MAX_DATA_FILE_BYTES}`);
  });

  it('more examples than the limit is an error naming the file, in every format (limit lowered to 2)', async () => {
    expect(MAX_EXAMPLES).toBe(10_000_000);
    const files = [
      await put('three.tsv', 'sentence\tlabel\na\t1\nb\t0\n\nc\t1\n'),
      await put('three.csv', 'sentence,label\na,1\n"b\nb",0\nc,1\n'),
      await put(
        'three.jsonl',
        '{"sentence":"a","label":1}\n{"sentence":"b","label":0}\n{"sentence":"c","label":1}\n',
      ),
    ];
    const pq = join(root, 'three.parquet');
    parquetWriteFile({
      filename: pq,
      columnData: [
        { name: 'sentence', data: ['a', 'b', 'c'], type: 'STRING' },
        { name: 'label', data: [1, 0, 1], type: 'INT32' },
      ],
    });
    for (const file of [...files, pq]) {
      const e = await errorOf(readTable(file, { maxExamples: 2 }));
      expect(e.message).toBe(`${file}: more than 2 examples, the limit for one dataset`);
      expect((await readTable(file, { maxExamples: 3 })).rows).toHaveLength(3);
    }
  });

  it('the limit counts examples, not the header or blank lines', async () => {
    const file = await put('two.tsv', 'sentence\tlabel\na\t1\n\n\nb\t0\n\n');
    expect((await readTable(file, { maxExamples: 2 })).rows).toHaveLength(2);
  });
});
