import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatches, encodeExamples, type EncodedExample } from './batches.js';
import { loadDataset } from './dataset.js';
import { resolveLabels } from './labels.js';
import { sampleIndices } from './sampling.js';
import { loadTokenizer } from './tokenizer.js';

const EX: EncodedExample[] = [
  { inputIds: [2, 5, 3], tokenTypeIds: [0, 0, 0], label: 1 },
  { inputIds: [2, 5, 6, 7, 3], tokenTypeIds: [0, 0, 0, 1, 1], label: 0 },
  { inputIds: [2, 3], label: 1 },
];

describe('makeBatches', () => {
  it('pads each batch to its own longest example, in the given order', () => {
    const [b0, b1, ...rest] = makeBatches(EX, { batchSize: 2, padTokenId: 0, tokenTypes: true });
    expect(rest).toEqual([]);
    expect(b0!.size).toBe(2);
    expect(b0!.seqLen).toBe(5);
    expect(Array.from(b0!.inputIds)).toEqual([2, 5, 3, 0, 0, 2, 5, 6, 7, 3]);
    expect(Array.from(b0!.attentionMask)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(b0!.tokenTypeIds!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(b0!.labels!)).toEqual([1, 0]);
    expect([b1!.size, b1!.seqLen]).toEqual([1, 2]);
    expect(Array.from(b1!.inputIds)).toEqual([2, 3]);
    expect(Array.from(b1!.tokenTypeIds!)).toEqual([0, 0]);
  });

  it("uses the model's pad id and omits token types when the model has none", () => {
    const [b0] = makeBatches(EX.slice(0, 2), { batchSize: 4, padTokenId: 1 });
    expect(Array.from(b0!.inputIds)).toEqual([2, 5, 3, 1, 1, 2, 5, 6, 7, 3]);
    expect(b0!.tokenTypeIds).toBeUndefined();
  });

  it('length bucketing groups by length (stable, shortest first)', () => {
    const [b0, b1] = makeBatches(EX, { batchSize: 2, padTokenId: 0, bucketing: true });
    expect(Array.from(b0!.inputIds)).toEqual([2, 3, 0, 2, 5, 3]);
    expect(Array.from(b0!.labels!)).toEqual([1, 1]);
    expect(Array.from(b1!.inputIds)).toEqual([2, 5, 6, 7, 3]);
  });

  it('keeps a pre-tokenized attention mask and regression labels', () => {
    const [b] = makeBatches(
      [
        { inputIds: [2, 9, 0], attentionMask: [1, 1, 0], label: 3.5 },
        { inputIds: [2], label: 0.25 },
      ],
      { batchSize: 2, padTokenId: 0 },
    );
    expect(Array.from(b!.attentionMask)).toEqual([1, 1, 0, 1, 0, 0]);
    expect(Array.from(b!.labels!)).toEqual([3.5, 0.25]);
  });

  it('leaves labels out when examples have none', () => {
    const [b] = makeBatches([{ inputIds: [2, 3] }], { batchSize: 1, padTokenId: 0 });
    expect(b!.labels).toBeUndefined();
  });
});

describe('pipeline: GLUE folder -> labels -> tokenizer -> sample -> batches', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmn-data-pipe-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('produces the hand-derived batches', async () => {
    const data = join(root, 'RTE');
    await mkdir(data);
    await writeFile(
      join(data, 'dev.tsv'),
      'index\tsentence1\tsentence2\tlabel\n0\tThe cat sat.\tThe cats sat.\tentailment\n1\tThe mat!\tPlaying on the mat.\tnot_entailment\n2\tthe cat\tthe dog\tnot_entailment\n',
    );
    const model = join(root, 'model');
    await mkdir(model);
    await writeFile(
      join(model, 'vocab.txt'),
      [
        '[PAD]',
        '[UNK]',
        '[CLS]',
        '[SEP]',
        '[MASK]',
        'the',
        'cat',
        'sat',
        'on',
        'mat',
        '##s',
        'play',
        '##ing',
        '!',
        '.',
      ].join('\n'),
    );
    const config = { model_type: 'bert', pad_token_id: 0, type_vocab_size: 2, num_labels: 2 };
    const ds = await loadDataset(data);
    const labels = resolveLabels(ds, config);
    const tok = await loadTokenizer(model, config);
    const idx = sampleIndices(ds.examples.length, 'all');
    const enc = encodeExamples(ds, tok, {
      maxLength: 9,
      examples: idx.map((i) => ds.examples[i]!),
      labels: idx.map((i) => labels[i]!),
    });
    const batches = makeBatches(enc, {
      batchSize: 2,
      padTokenId: tok.padTokenId,
      tokenTypes: tok.usesTokenTypes,
    });
    expect(batches.map((b) => [b.size, b.seqLen])).toEqual([
      [2, 9],
      [1, 7],
    ]);
    // 0: [CLS] the cat sat . [SEP] the cat ##s sat . [SEP] = 12 tokens -> budget 6: a 4, b 5 -> a 3, b 3
    // 1: [CLS] the mat ! [SEP] play ##ing on the mat . [SEP] -> a 3, b 6 -> a 3, b 3
    expect(Array.from(batches[0]!.inputIds)).toEqual([
      2, 5, 6, 7, 3, 5, 6, 10, 3, 2, 5, 9, 13, 3, 11, 12, 8, 3,
    ]);
    expect(Array.from(batches[0]!.tokenTypeIds!)).toEqual([
      0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1,
    ]);
    expect(Array.from(batches[0]!.labels!)).toEqual([0, 1]);
    // 2: [CLS] the cat [SEP] the [UNK] [SEP]
    expect(Array.from(batches[1]!.inputIds)).toEqual([2, 5, 6, 3, 5, 1, 3]);
    expect(Array.from(batches[1]!.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });
});
