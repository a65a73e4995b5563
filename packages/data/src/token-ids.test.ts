import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExamples } from './batches.js';
import { loadDataset } from './dataset.js';
import { loadTokenizer } from './tokenizer.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-token-ids-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function jsonl(rows: unknown[]): Promise<string> {
  const file = join(root, `data-${n++}.jsonl`);
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function tokenizerDir(vocab: string[]): Promise<string> {
  const dir = join(root, `tok-${n++}`);
  await mkdir(dir);
  await writeFile(join(dir, 'vocab.txt'), vocab.join('\n'));
  return dir;
}

describe('pre-tokenized input_ids', () => {
  it('rejects strings, fractions, negatives and ids beyond int32, naming the file and line', async () => {
    for (const bad of [['2', 3], [2.5], [-1], [2 ** 31], [2 ** 32 + 134]]) {
      const file = await jsonl([
        { input_ids: [2, 3], label: 0 },
        { input_ids: bad, label: 1 },
      ]);
      await expect(loadDataset(file)).rejects.toThrow(new RegExp(`${file}.*line 2|line 2.*${file}`, 's'));
      await expect(loadDataset(file)).rejects.toThrow(
        /"input_ids" must be an array of integers 0\.\.2147483647/,
      );
    }
  });

  it('rejects an empty input_ids', async () => {
    const file = await jsonl([{ input_ids: [], label: 0 }]);
    await expect(loadDataset(file)).rejects.toThrow(/"input_ids" is empty/);
  });

  it('keeps the largest int32 id', async () => {
    const file = await jsonl([{ input_ids: [2, 2 ** 31 - 1, 3], label: 0 }]);
    const ds = await loadDataset(file);
    expect((ds.examples[0] as { inputIds: readonly number[] }).inputIds).toEqual([2, 2 ** 31 - 1, 3]);
  });

  it("an id at or above the model's vocabulary size is an error naming the data file, line and position", async () => {
    const file = await jsonl([
      { input_ids: [2, 5, 3], label: 0 },
      { input_ids: [2, 6, 3], label: 1 },
    ]);
    const ds = await loadDataset(file);
    const tok = await loadTokenizer(await tokenizerDir(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'b', 'c']));
    expect(encodeExamples(ds, tok, { vocabSize: 7 })).toHaveLength(2);
    let err: Error | undefined;
    try {
      encodeExamples(ds, tok, { vocabSize: 6 });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toContain(file);
    expect(err?.message).toMatch(
      /line 2: token id 6 at position 1 is outside the model's vocabulary \(size 6\)/,
    );
  });
});

describe('a tokenizer whose ids the model cannot embed', () => {
  it('is an error naming the tokenizer and the data line', async () => {
    const file = join(root, 'text.tsv');
    await writeFile(file, 'sentence\tlabel\na\t0\nc\t1\n');
    const ds = await loadDataset(file);
    // vocab.txt has 7 tokens ("c" is id 6) but the model embeds only 6
    const dir = await tokenizerDir(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'b', 'c']);
    const tok = await loadTokenizer(dir, { model_type: 'bert' });
    expect(() => encodeExamples(ds, tok, { vocabSize: 6 })).toThrow(
      new RegExp(
        `line 3: the tokenizer \\(vocab\\.txt in ${dir}\\) gave an id the model cannot embed: token id 6`,
      ),
    );
  });
});
