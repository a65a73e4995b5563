import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The tokenizer conventions come from the registered adapters, as in the CLI.
import '@fmn/arch-bert';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import '@fmn/arch-roberta';
import { isFmnError } from '@fmn/core';
import { loadTokenizer, truncateLongestFirst } from './tokenizer.js';

// A tiny WordPiece vocabulary: the id of a token is its line number (0-based).
const WORDPIECE_VOCAB = [
  '[PAD]', // 0
  '[UNK]', // 1
  '[CLS]', // 2
  '[SEP]', // 3
  '[MASK]', // 4
  'the', // 5
  'cat', // 6
  'sat', // 7
  'on', // 8
  'mat', // 9
  '##s', // 10
  'play', // 11
  '##ing', // 12
  '!', // 13
  'cafe', // 14
  ',', // 15
  '.', // 16
  'Cafe', // 17
];

// A tiny byte-level BPE: "Ġ" is the byte-level symbol of a space.
const BPE_VOCAB: Record<string, number> = {
  '<s>': 0,
  '<pad>': 1,
  '</s>': 2,
  '<unk>': 3,
  '<mask>': 4,
  h: 5,
  e: 6,
  l: 7,
  o: 8,
  Ġ: 9,
  w: 10,
  r: 11,
  d: 12,
  he: 13,
  ll: 14,
  hell: 15,
  hello: 16,
  Ġw: 17,
  or: 18,
  Ġwor: 19,
  Ġworl: 20,
  Ġworld: 21,
  '!': 22,
};
// merge ranks: earlier lines merge first
const BPE_MERGES = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'Ġwor l', 'Ġworl d'];

const BERT_CONFIG = { model_type: 'bert', pad_token_id: 0, type_vocab_size: 2 };
const DISTILBERT_CONFIG = { model_type: 'distilbert', pad_token_id: 0 };
const ROBERTA_CONFIG = { model_type: 'roberta', pad_token_id: 1, type_vocab_size: 1 };

let root: string;
async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  return dir;
}

const vocabTxt = WORDPIECE_VOCAB.join('\n') + '\n';
const mergesTxt = '#version: 0.2\n' + BPE_MERGES.join('\n') + '\n';

function wordPieceTokenizerJson(postProcessor: unknown): string {
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3, 4].map((id) => ({
      id,
      content: WORDPIECE_VOCAB[id],
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: postProcessor,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(WORDPIECE_VOCAB.map((t, i) => [t, i])),
    },
  });
}

const BERT_TEMPLATE = {
  type: 'TemplateProcessing',
  single: [
    { SpecialToken: { id: '[CLS]', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '[SEP]', type_id: 0 } },
  ],
  pair: [
    { SpecialToken: { id: '[CLS]', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '[SEP]', type_id: 0 } },
    { Sequence: { id: 'B', type_id: 1 } },
    { SpecialToken: { id: '[SEP]', type_id: 1 } },
  ],
  special_tokens: {
    '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
    '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
  },
};

const ROBERTA_TOKENIZER_JSON = JSON.stringify({
  version: '1.0',
  added_tokens: [
    {
      id: 0,
      content: '<s>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
    {
      id: 1,
      content: '<pad>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
    {
      id: 2,
      content: '</s>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
    {
      id: 3,
      content: '<unk>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
    {
      id: 4,
      content: '<mask>',
      single_word: false,
      lstrip: true,
      rstrip: false,
      normalized: false,
      special: true,
    },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: {
    type: 'RobertaProcessing',
    sep: ['</s>', 2],
    cls: ['<s>', 0],
    trim_offsets: true,
    add_prefix_space: false,
  },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE',
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: '',
    end_of_word_suffix: '',
    fuse_unk: false,
    byte_fallback: false,
    vocab: BPE_VOCAB,
    merges: BPE_MERGES,
  },
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-data-tok-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('WordPiece (BERT family)', () => {
  // Hand-derived from WORDPIECE_VOCAB: lower-cased, "cats" -> cat ##s, "playing" -> play ##ing.
  const cases = async () => [
    await loadTokenizer(await folder('wp-vocab', { 'vocab.txt': vocabTxt }), BERT_CONFIG),
    await loadTokenizer(
      await folder('wp-json', { 'tokenizer.json': wordPieceTokenizerJson(BERT_TEMPLATE) }),
      BERT_CONFIG,
    ),
    await loadTokenizer(
      await folder('wp-json-bertproc', {
        'tokenizer.json': wordPieceTokenizerJson({
          type: 'BertProcessing',
          sep: ['[SEP]', 3],
          cls: ['[CLS]', 2],
        }),
      }),
      BERT_CONFIG,
    ),
  ];

  it('loads from vocab.txt and tokenizer.json alike', async () => {
    const toks = await cases();
    expect(toks.map((t) => t.source)).toEqual(['vocab.txt', 'tokenizer.json', 'tokenizer.json']);
    for (const t of toks) {
      expect(t.padTokenId).toBe(0);
      expect(t.usesTokenTypes).toBe(true);
    }
  });

  it('encodes a single input: [CLS] a [SEP]', async () => {
    for (const t of await cases()) {
      expect(t.encode('The cats sat!')).toEqual({
        inputIds: [2, 5, 6, 10, 7, 13, 3],
        tokenTypeIds: [0, 0, 0, 0, 0, 0, 0],
      });
      // unknown word -> [UNK]; accents stripped because lower-casing is on
      expect(t.encode('the dog Café').inputIds).toEqual([2, 5, 1, 14, 3]);
    }
  });

  it('encodes a pair: [CLS] a [SEP] b [SEP] with token types 0/1', async () => {
    for (const t of await cases()) {
      expect(t.encode('the cat', 'Playing on mat.')).toEqual({
        inputIds: [2, 5, 6, 3, 11, 12, 8, 9, 16, 3],
        tokenTypeIds: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
      });
    }
  });

  it('truncates longest_first to max_length', async () => {
    for (const t of await cases()) {
      // budget 8 - 3 specials = 5; a has 2, b has 5 -> a keeps 2, b keeps 3
      expect(t.encode('the cat', 'playing on mat.', 8)).toEqual({
        inputIds: [2, 5, 6, 3, 11, 12, 8, 3],
        tokenTypeIds: [0, 0, 0, 0, 1, 1, 1, 1],
      });
      // both 6 tokens, budget 5 -> a keeps floor(5/2)=2, b keeps 3
      expect(t.encode('the cat sat on the mat', 'the cat sat on the mat', 8).inputIds).toEqual([
        2, 5, 6, 3, 5, 6, 7, 3,
      ]);
      // single: budget 4 - 2 = 2
      expect(t.encode('the cat sat on', undefined, 4).inputIds).toEqual([2, 5, 6, 3]);
    }
  });

  it('DistilBERT: same ids, no token types for the model', async () => {
    const t = await loadTokenizer(await folder('wp-distil', { 'vocab.txt': vocabTxt }), DISTILBERT_CONFIG);
    expect(t.usesTokenTypes).toBe(false);
    expect(t.encode('the cat', 'sat').inputIds).toEqual([2, 5, 6, 3, 7, 3]);
  });

  it('follows do_lower_case / strip_accents from tokenizer_config.json', async () => {
    const cased = await loadTokenizer(
      await folder('wp-cased', {
        'vocab.txt': vocabTxt,
        'tokenizer_config.json': '{"do_lower_case": false}',
      }),
      BERT_CONFIG,
    );
    // "The" is not in the vocabulary when case is kept; "Café" keeps its accent -> [UNK]
    expect(cased.encode('The cat Café').inputIds).toEqual([2, 1, 6, 1, 3]);
    const strip = await loadTokenizer(
      await folder('wp-strip', {
        'vocab.txt': vocabTxt,
        'tokenizer_config.json': '{"do_lower_case": false, "strip_accents": true}',
      }),
      BERT_CONFIG,
    );
    expect(strip.encode('Café').inputIds).toEqual([2, 17, 3]);
  });
});

describe('byte-level BPE (RoBERTa)', () => {
  const cases = async () => [
    await loadTokenizer(
      await folder('bpe-files', { 'vocab.json': JSON.stringify(BPE_VOCAB), 'merges.txt': mergesTxt }),
      ROBERTA_CONFIG,
    ),
    await loadTokenizer(
      await folder('bpe-json', { 'tokenizer.json': ROBERTA_TOKENIZER_JSON }),
      ROBERTA_CONFIG,
    ),
  ];

  it('encodes a single input: <s> a </s>', async () => {
    for (const t of await cases()) {
      expect(t.padTokenId).toBe(1);
      expect(t.usesTokenTypes).toBe(false);
      // "hello" -> he, ll, hell, hello; " world" -> Ġworld through Ġw, or, Ġwor, Ġworl
      expect(t.encode('hello world').inputIds).toEqual([0, 16, 21, 2]);
      expect(t.encode('hello world!').inputIds).toEqual([0, 16, 21, 22, 2]);
      // no applicable merge: single bytes
      expect(t.encode('low').inputIds).toEqual([0, 7, 8, 10, 2]);
    }
  });

  it('encodes a pair: <s> a </s></s> b </s>, b without a prefix space', async () => {
    for (const t of await cases()) {
      // "world" at the start of b has no space: w, or, l, d
      expect(t.encode('hello', 'world')).toEqual({
        inputIds: [0, 16, 2, 2, 10, 18, 7, 12, 2],
        tokenTypeIds: [0, 0, 0, 0, 0, 0, 0, 0, 0],
      });
      // 4 specials, budget 2: each keeps 1
      expect(t.encode('hello world', 'hello world', 6).inputIds).toEqual([0, 16, 2, 2, 16, 2]);
    }
  });

  it('honours add_prefix_space from tokenizer_config.json', async () => {
    const t = await loadTokenizer(
      await folder('bpe-prefix', {
        'vocab.json': JSON.stringify(BPE_VOCAB),
        'merges.txt': mergesTxt,
        'tokenizer_config.json': '{"add_prefix_space": true}',
      }),
      ROBERTA_CONFIG,
    );
    expect(t.encode('hello').inputIds).toEqual([0, 9, 16, 2]);
  });
});

describe('truncateLongestFirst', () => {
  // the Rust tokenizers crate's own test table (max_length 7): lengths 0/2/4/8 pairwise
  const seq = (n: number) => Array.from({ length: n }, (_, i) => i);
  it.each([
    [0, 8, 0, 7],
    [2, 8, 2, 5],
    [4, 4, 3, 4],
    [4, 8, 3, 4],
    [8, 2, 5, 2],
    [8, 4, 4, 3],
    [8, 8, 3, 4],
    [2, 2, 2, 2],
  ])('%i + %i -> %i + %i', (a, b, ea, eb) => {
    const [x, y] = truncateLongestFirst(seq(a), seq(b), 7);
    expect([x.length, y.length]).toEqual([ea, eb]);
  });
});

describe('loadTokenizer errors', () => {
  it('names the folder when no tokenizer files exist', async () => {
    const dir = await folder('none', { 'config.json': '{}' });
    const e = await loadTokenizer(dir, BERT_CONFIG).catch((x: unknown) => x);
    expect(isFmnError(e)).toBe(true);
    expect(String((e as Error).message)).toContain(dir);
    expect(String((e as Error).message)).toContain('tokenizer.json');
  });
});
