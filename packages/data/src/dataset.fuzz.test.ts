/**
 * Fuzz property: any byte mutation of a TSV, CSV, JSONL or Parquet data file loads to a dataset
 * whose labels resolve, or fails with an FmnError naming the file, never another error.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { applyByteMutations, byteMutations, expectCleanOutcome, runProperty } from '@fmn/fuzz';
import { loadDataset } from './dataset.js';
import { resolveLabels } from './labels.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-data-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const TEXT: Record<string, string> = {
  tsv: 'sentence\tlabel\nthe cat sat\t1\na "quoted" dog\t0\nok\t1\n',
  csv: 'sentence,label\nthe cat sat,1\n"a, ""quoted"" dog",0\n"two\nlines",1\n',
  jsonl:
    '{"sentence":"the cat sat","label":1}\n{"sentence":"a dog","label":0}\n{"input_ids":[1,2],"label":1}\n',
  'tokenized.jsonl':
    '{"input_ids":[2,5,3],"attention_mask":[1,1,1],"label":1}\n{"input_ids":[2,7,3],"token_type_ids":[0,0,0],"label":0}\n',
};

async function parquetBytes(): Promise<Uint8Array> {
  const file = join(root, 'valid.parquet');
  parquetWriteFile({
    filename: file,
    codec: 'SNAPPY',
    columnData: [
      { name: 'sentence', data: ['the cat sat', 'a dog', 'ok'], type: 'STRING' },
      { name: 'label', data: [1n, 0n, 1n], type: 'INT64' },
    ],
  });
  return new Uint8Array(await readFile(file));
}

describe('fuzz: data files', () => {
  it('byte mutations of TSV, CSV, JSONL and Parquet: a dataset or an FmnError naming the file', async () => {
    const sources: [string, Uint8Array][] = [
      ...Object.entries(TEXT).map(([ext, t]): [string, Uint8Array] => [ext, Buffer.from(t)]),
      ['parquet', await parquetBytes()],
    ];
    let k = 0;
    await runProperty(
      'data files',
      fc.tuple(fc.integer({ min: 0, max: sources.length - 1 }), byteMutations()),
      async ([which, muts]) => {
        const [ext, valid] = sources[which]!;
        const file = join(root, `d${k++}.${ext}`);
        await writeFile(file, applyByteMutations(valid, muts));
        await expectCleanOutcome(async () => {
          const ds = await loadDataset(file);
          if (ds.labelColumn !== undefined) resolveLabels(ds, { num_labels: 2 });
        }, file);
      },
      200,
    );
  });
});
