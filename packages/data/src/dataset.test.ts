import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { loadDataset, type TextDataset } from './dataset.js';
import { resolveLabels } from './labels.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-data-ds-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<string> {
  const path = join(root, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function text(path: string, options?: Parameters<typeof loadDataset>[1]): Promise<TextDataset> {
  const ds = await loadDataset(path, options);
  if (ds.kind !== 'text') throw new Error('expected a text dataset');
  return ds;
}

async function fmnError(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isFmnError(e)).toBe(true);
    return e as Error;
  }
  throw new Error('expected an FmnError');
}

const GENERIC2 = { model_type: 'bert', num_labels: 2 };

describe('GLUE TSV layouts', () => {
  it('MRPC: header, #1/#2 String columns, Quality label, quotes are literal text', async () => {
    const dir = join(root, 'MRPC');
    await put(
      'MRPC/dev.tsv',
      'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n' +
        '1\t1355540\t1355592\tHe said "the foodservice pie business.\tThe "foodservice" pie business\n' +
        '0\t2029631\t2029565\tMagnarelli said Racicot hated the Iraqi regime.\tHis wife said he was "100 percent behind George Bush" and looked forward to ...\n',
    );
    const ds = await text(dir);
    expect(ds.task?.name).toBe('mrpc'); // from the folder name
    expect(ds.columns).toEqual({ a: '#1 String', b: '#2 String' });
    expect(ds.examples.map((e) => [e.a, e.b, e.label, e.line])).toEqual([
      ['He said "the foodservice pie business.', 'The "foodservice" pie business', '1', 2],
      [
        'Magnarelli said Racicot hated the Iraqi regime.',
        'His wife said he was "100 percent behind George Bush" and looked forward to ...',
        '0',
        3,
      ],
    ]);
    expect(Array.from(resolveLabels(ds, GENERIC2))).toEqual([1, 0]);
  });

  it('CoLA: train/dev TSVs have no header (source, label, mark, sentence)', async () => {
    const path = await put(
      'CoLA/dev.tsv',
      "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\ngj04\t0\t*\tThey drank the pub.\n",
    );
    const ds = await text(path);
    expect(ds.task?.name).toBe('cola');
    expect(ds.examples.map((e) => [e.a, e.b, e.label, e.line])).toEqual([
      ["Our friends won't buy this analysis, let alone the next one we propose.", undefined, '1', 1],
      ['They drank the pub.', undefined, '0', 2],
    ]);
  });

  it('MNLI: dev_matched by default, dev_mismatched by split; gold_label strings via presets or label2id', async () => {
    const header =
      'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n';
    const row = (i: number, s1: string, s2: string, gold: string) =>
      `${i}\t1\t1e\tgov\t( x )\t( y )\t(ROOT x)\t(ROOT y)\t${s1}\t${s2}\t${gold}\t${gold}\t${gold}\t${gold}\t${gold}\t${gold}\n`;
    await put(
      'MNLI/train.tsv',
      header.replace('\tlabel2\tlabel3\tlabel4\tlabel5', '') +
        '0\t1\t1e\tgov\tx\ty\tx\ty\ta\tb\tneutral\tneutral\n',
    );
    await put(
      'MNLI/dev_matched.tsv',
      header +
        row(0, 'The new rights are nice enough', 'Everyone really likes the newest benefits', 'neutral') +
        row(1, 'This site includes a list', 'The Government Executive articles', 'contradiction') +
        row(2, "uh i don't know", 'I like him "a lot"', 'entailment'),
    );
    await put(
      'MNLI/dev_mismatched.tsv',
      header + row(0, 'Your contribution helped', 'Your contributions were of no help', 'contradiction'),
    );
    const dir = join(root, 'MNLI');
    const matched = await text(dir);
    expect(matched.file).toBe(join(dir, 'dev_matched.tsv'));
    expect(matched.examples.map((e) => [e.a, e.b, e.label])).toEqual([
      ['The new rights are nice enough', 'Everyone really likes the newest benefits', 'neutral'],
      ['This site includes a list', 'The Government Executive articles', 'contradiction'],
      ["uh i don't know", 'I like him "a lot"', 'entailment'],
    ]);
    // generic LABEL_i names: the HF glue order entailment, neutral, contradiction
    expect(Array.from(resolveLabels(matched, { model_type: 'bert', num_labels: 3 }))).toEqual([1, 2, 0]);
    // a model with its own names (roberta-large-mnli style, upper case): case-insensitive lookup
    const named = {
      model_type: 'roberta',
      id2label: { 0: 'CONTRADICTION', 1: 'NEUTRAL', 2: 'ENTAILMENT' },
      label2id: { CONTRADICTION: 0, NEUTRAL: 1, ENTAILMENT: 2 },
    };
    expect(Array.from(resolveLabels(matched, named))).toEqual([1, 0, 2]);
    const mismatched = await text(dir, { split: 'dev_mismatched' });
    expect(mismatched.examples.map((e) => e.a)).toEqual(['Your contribution helped']);
    const train = await text(dir, { split: 'train' });
    expect(train.examples.map((e) => [e.a, e.b, e.label])).toEqual([['a', 'b', 'neutral']]);
  });

  it('STS-B: float scores as regression targets', async () => {
    const path = await put(
      'STS-B/dev.tsv',
      'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n' +
        '0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man with a hard hat is dancing.\tA man wearing a hard hat is dancing.\t5.000\n' +
        '1\tmain-captions\tMSRvid\t2012test\t0002\tnone\tnone\tA young child is riding a horse.\tA child is riding a horse.\t4.750\n',
    );
    const ds = await text(path);
    expect(ds.task?.name).toBe('stsb');
    expect(Array.from(resolveLabels(ds, { model_type: 'bert', num_labels: 1 }))).toEqual([5, 4.75]);
  });

  it('QNLI / RTE string labels; BOM and CRLF line ends', async () => {
    const path = await put(
      'RTE/dev.tsv',
      '\ufeffindex\tsentence1\tsentence2\tlabel\r\n0\tDana Reeve died.\tChristopher Reeve had an accident.\tnot_entailment\r\n1\tYet, we now are.\tWe are.\tentailment\r\n',
    );
    const ds = await text(path);
    expect(ds.task?.name).toBe('rte');
    expect(ds.examples.map((e) => [e.a, e.b, e.label])).toEqual([
      ['Dana Reeve died.', 'Christopher Reeve had an accident.', 'not_entailment'],
      ['Yet, we now are.', 'We are.', 'entailment'],
    ]);
    expect(Array.from(resolveLabels(ds, GENERIC2))).toEqual([1, 0]);
    const qnli = await put('x/qnli.tsv', 'index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tentailment\n');
    const q = await text(qnli, { task: 'qnli' });
    expect([q.examples[0]!.a, q.examples[0]!.b]).toEqual(['What?', 'This.']);
  });

  it('QQP: skipMalformed skips broken lines and counts them', async () => {
    const path = await put(
      'QQP/dev.tsv',
      'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\tHow?\tWhy?\t0\n2\t3\tbroken line\n3\t5\t6\tWhat?\tWhat is?\t1\n',
    );
    const ds = await text(path, { skipMalformed: true });
    expect(ds.skipped).toBe(1);
    expect(ds.examples.map((e) => [e.a, e.b, e.label, e.line])).toEqual([
      ['How?', 'Why?', '0', 2],
      ['What?', 'What is?', '1', 4],
    ]);
  });
});

describe('CSV, JSONL, Parquet, custom columns', () => {
  it('CSV with RFC 4180 quoting: commas, doubled quotes, line breaks', async () => {
    const path = await put(
      'csv/data.csv',
      'text,label\r\n"Hello, world",1\r\n"She said ""hi""",0\r\n"two\nlines",1\r\nplain,0\r\n',
    );
    const ds = await text(path);
    expect(ds.examples.map((e) => [e.a, e.label, e.line])).toEqual([
      ['Hello, world', '1', 2],
      ['She said "hi"', '0', 3],
      ['two\nlines', '1', 4],
      ['plain', '0', 6],
    ]);
  });

  it('JSONL with custom columns and numeric labels', async () => {
    const path = await put(
      'jsonl/d.jsonl',
      '{"premise": "A", "hypo": "B", "y": 1}\n\n{"premise": "C", "hypo": "D", "y": 0}\n',
    );
    const ds = await text(path, { columns: { a: 'premise', b: 'hypo', label: 'y' } });
    expect(ds.examples.map((e) => [e.a, e.b, e.label, e.line])).toEqual([
      ['A', 'B', 1, 1],
      ['C', 'D', 0, 3],
    ]);
    expect(Array.from(resolveLabels(ds, GENERIC2))).toEqual([1, 0]);
  });

  it('pre-tokenized JSONL', async () => {
    const path = await put(
      'tok/d.jsonl',
      '{"input_ids": [2, 5, 3], "token_type_ids": [0, 0, 0], "label": 1}\n{"input_ids": [2, 3], "attention_mask": [1, 1], "label": 0}\n',
    );
    const ds = await loadDataset(path);
    expect(ds.kind).toBe('tokenized');
    if (ds.kind !== 'tokenized') return;
    expect(ds.examples.map((e) => [e.inputIds, e.attentionMask, e.tokenTypeIds, e.label])).toEqual([
      [[2, 5, 3], undefined, [0, 0, 0], 1],
      [[2, 3], [1, 1], undefined, 0],
    ]);
  });

  it('snappy-compressed Parquet written by hyparquet-writer, hub layout (validation-00000-of-00001)', async () => {
    const dir = join(root, 'sst2-hub');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'validation-00000-of-00001.parquet');
    const sentences = [
      "it 's a charming and often affecting journey . ".repeat(20),
      'unflinchingly bleak and desperate '.repeat(20),
      'allows us to hope that nolan is poised to embark a major career ',
    ];
    parquetWriteFile({
      filename: file,
      codec: 'SNAPPY',
      columnData: [
        { name: 'sentence', data: sentences, type: 'STRING' },
        { name: 'label', data: [1n, 0n, 1n], type: 'INT64' },
        { name: 'idx', data: [0, 1, 2], type: 'INT32' },
      ],
    });
    // the file really is snappy-compressed
    const bytes = await readFile(file);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const sentenceChunk = meta.row_groups[0]!.columns[0]!.meta_data!;
    expect(sentenceChunk.codec).toBe('SNAPPY');
    expect(Number(sentenceChunk.total_compressed_size)).toBeLessThan(
      Number(sentenceChunk.total_uncompressed_size),
    );

    const ds = await text(dir, { task: 'sst2' });
    expect(ds.format).toBe('parquet');
    expect(ds.examples.map((e) => [e.a, e.label, e.line])).toEqual([
      [sentences[0], 1, 1],
      [sentences[1], 0, 2],
      [sentences[2], 1, 3],
    ]);
    expect(Array.from(resolveLabels(ds, GENERIC2))).toEqual([1, 0, 1]);
  });
});

describe('errors (FmnError naming the file)', () => {
  it('missing column lists the available ones', async () => {
    const path = await put('err/missing.tsv', 'text\tlabel\nhello\t1\n');
    const e = await fmnError(loadDataset(path, { task: 'rte' }));
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/missing text column "sentence1"; available columns: "text", "label"/);
  });

  it('malformed line gives its line number', async () => {
    const tsv = await put('err/malformed.tsv', 'sentence\tlabel\ngood\t1\nbad line without a tab\nfine\t0\n');
    const e = await fmnError(loadDataset(tsv));
    expect(e.message).toMatch(
      /malformed\.tsv: line 3: malformed line, expected 2 tab-separated fields, found 1/,
    );
    const jsonl = await put(
      'err/malformed.jsonl',
      '{"sentence": "a", "label": 1}\n{"sentence": "b", "label": \n',
    );
    expect((await fmnError(loadDataset(jsonl))).message).toMatch(/line 2: malformed line, invalid JSON/);
    const csv = await put('err/malformed.csv', 'sentence,label\n"ok",1\n"multi\nline",0\n"unterminated,1\n');
    expect((await fmnError(loadDataset(csv))).message).toMatch(/line 5: unterminated quoted field/);
  });

  it('label out of range gives the line number, the dataset and the model', async () => {
    const path = await put('err/range.tsv', 'sentence\tlabel\na\t0\nb\t1\nc\t2\n');
    const ds = await loadDataset(path);
    const e = await fmnError(() => resolveLabels(ds, GENERIC2, { model: 'models/sst2' }));
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/line 4: label "2" out of range for model models\/sst2 with num_labels 2/);
  });

  it('a task whose label count differs from the model names both', async () => {
    const path = await put('err/mnli.tsv', 'sentence1\tsentence2\tgold_label\na\tb\tneutral\n');
    const ds = await loadDataset(path, { task: 'mnli' });
    const e = await fmnError(() => resolveLabels(ds, GENERIC2, { model: 'models/rte' }));
    expect(e.message).toMatch(
      /err\/mnli\.tsv: dataset \(task mnli\) has 3 labels but model models\/rte has num_labels 2/,
    );
  });

  it('an unknown string label names the model labels', async () => {
    const path = await put('err/unknown.tsv', 'sentence\tlabel\na\tpositive\nb\tmaybe\n');
    const ds = await loadDataset(path);
    const cfg = { model_type: 'bert', num_labels: 2, label2id: { negative: 0, positive: 1 } };
    expect(Array.from(resolveLabels({ ...ds, examples: ds.examples.slice(0, 1) } as typeof ds, cfg))).toEqual(
      [1],
    );
    const e = await fmnError(() => resolveLabels(ds, cfg));
    expect(e.message).toMatch(
      /line 3: label "maybe" is not a label of the model \(num_labels 2; labels: negative, positive\)/,
    );
  });

  it('integer-valued label strings ("1", "1.0") are ids; "1.5" is out of range', async () => {
    const path = await put('err/floaty.csv', 'sentence,label\na,1.0\nb,0\nc,1.5\n');
    const ds = await loadDataset(path);
    expect(
      Array.from(resolveLabels({ ...ds, examples: ds.examples.slice(0, 2) } as typeof ds, GENERIC2)),
    ).toEqual([1, 0]);
    expect((await fmnError(() => resolveLabels(ds, GENERIC2))).message).toMatch(
      /line 4: label "1.5" is not a label/,
    );
  });

  it('empty dataset', async () => {
    const path = await put('err/empty.tsv', 'sentence\tlabel\n');
    expect((await fmnError(loadDataset(path))).message).toMatch(/empty\.tsv: empty dataset/);
    const blank = await put('err/blank.jsonl', '\n\n');
    expect((await fmnError(loadDataset(blank))).message).toMatch(/empty dataset/);
  });

  it('file not found', async () => {
    const path = join(root, 'err/nope.tsv');
    expect((await fmnError(loadDataset(path))).message).toBe(`${path}: data file not found`);
    const e = await fmnError(loadDataset(join(root, 'MRPC'), { split: 'test' }));
    expect(e.message).toMatch(/no "test" split in this folder .*data files present: dev\.tsv/);
  });

  it('unsupported extension', async () => {
    const path = await put('err/data.xlsx', 'whatever');
    expect((await fmnError(loadDataset(path))).message).toMatch(
      /data\.xlsx: unsupported data file extension "\.xlsx"; expected one of \.tsv, \.csv, \.jsonl, \.ndjson, \.parquet/,
    );
  });

  it('unknown task', async () => {
    const path = await put('err/t.tsv', 'sentence\tlabel\na\t1\n');
    expect((await fmnError(loadDataset(path, { task: 'squad' }))).message).toMatch(/unknown task "squad"/);
  });
});

describe('example ids', () => {
  it('from an "id", "idx" or "index" column, as text or number; none without one', async () => {
    const tsv = await text(await put('ids/a.tsv', 'index\tsentence\n7\tfirst\nx-2\tsecond\n'), {
      columns: { label: null },
    });
    expect(tsv.examples.map((e) => [e.a, e.id])).toEqual([
      ['first', '7'],
      ['second', 'x-2'],
    ]);
    const jsonl = await text(
      await put(
        'ids/b.jsonl',
        '{"idx": 3, "sentence": "a", "label": 1}\n{"idx": 4, "sentence": "b", "label": 0}\n',
      ),
    );
    expect(jsonl.examples.map((e) => e.id)).toEqual([3, 4]);
    const none = await text(await put('ids/c.tsv', 'sentence\tlabel\na\t1\n'));
    expect('id' in none.examples[0]!).toBe(false);
  });
});
