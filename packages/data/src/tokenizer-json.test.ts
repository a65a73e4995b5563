import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
// The tokenizer conventions come from the registered adapters, as in the CLI.
import '@fmn/arch-bert';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import '@fmn/arch-roberta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTokenizerJson, ensureTokenizerJson } from './tokenizer-json.js';
import { loadTokenizer } from './tokenizer.js';

// [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then words by line number
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', '##s', '.'];
const BPE_VOCAB: Record<string, number> = {
  '<s>': 0,
  '<pad>': 1,
  '</s>': 2,
  '<unk>': 3,
  '<mask>': 4,
  h: 5,
  i: 6,
  hi: 7,
  Ġ: 8,
  Ġhi: 9,
};
const BERT = { model_type: 'bert', pad_token_id: 0, type_vocab_size: 2 };
const ROBERTA = { model_type: 'roberta', pad_token_id: 1, type_vocab_size: 1 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-tokjson-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  return dir;
}

describe('tokenizer.json from vocabulary files', () => {
  it('WordPiece: the HuggingFace tokenizers library adds [CLS] a [SEP] b [SEP] from the written post-processor', async () => {
    const dir = await folder('bert', { 'vocab.txt': VOCAB.join('\n') + '\n' });
    expect(await ensureTokenizerJson(dir, BERT)).toBe(true);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    expect(json.post_processor).toEqual({ type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] });
    const lib = new Tokenizer(json, {});
    expect(lib.encode('The cats', { text_pair: 'sat.' }).ids).toEqual([2, 5, 6, 10, 3, 7, 11, 3]);
    // and fmn's own loader, from tokenizer.json alone, encodes as it does from vocab.txt
    const only = await folder('bert-json', { 'tokenizer.json': JSON.stringify(json) });
    const a = await loadTokenizer(dir, BERT);
    const b = await loadTokenizer(only, BERT);
    expect(b.encode('the cats', 'on the mat.', 32)).toEqual(a.encode('the cats', 'on the mat.', 32));
    expect(b.encode('the cats', 'on the mat.', 32).tokenTypeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });

  it('byte-level BPE: RobertaProcessing with <s> and </s>', async () => {
    const dir = await folder('roberta', {
      'vocab.json': JSON.stringify(BPE_VOCAB),
      'merges.txt': '#version: 0.2\nh i\nĠ hi\n',
    });
    const json = (await buildTokenizerJson(dir, ROBERTA))!;
    expect(json.post_processor).toMatchObject({
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
    });
    const lib = new Tokenizer(json, {});
    expect(lib.encode('hi hi').ids).toEqual([0, 7, 9, 2]);
  });

  it('leaves a folder that has tokenizer.json, or no vocabulary, alone', async () => {
    const has = await folder('has', { 'vocab.txt': VOCAB.join('\n'), 'tokenizer.json': '{"mine": true}' });
    expect(await ensureTokenizerJson(has, BERT)).toBe(false);
    expect(await readFile(join(has, 'tokenizer.json'), 'utf8')).toBe('{"mine": true}');
    expect(await ensureTokenizerJson(await folder('none', { 'config.json': '{}' }), BERT)).toBe(false);
  });

  it('a null vocab.json, an empty vocab.txt or a null/array special_tokens_map.json is an error naming the file (fuzz finding)', async () => {
    const cases: [string, Record<string, string>, string, RegExp][] = [
      [
        'null-vocab',
        { 'vocab.json': 'null', 'merges.txt': '#version: 0.2\n' },
        'vocab.json',
        /must be a JSON object, got null/,
      ],
      ['empty-vocab', { 'vocab.txt': '\n' }, 'vocab.txt', /vocab\.txt is empty/],
      [
        'null-map',
        { 'vocab.txt': VOCAB.join('\n'), 'special_tokens_map.json': 'null' },
        'special_tokens_map.json',
        /got null/,
      ],
      [
        'array-map',
        { 'vocab.txt': VOCAB.join('\n'), 'special_tokens_map.json': '[]' },
        'special_tokens_map.json',
        /got an array/,
      ],
    ];
    for (const [name, files, bad, re] of cases) {
      const dir = await folder(name, files);
      const e = await buildTokenizerJson(
        dir,
        name.includes('vocab') && files['vocab.json'] ? ROBERTA : BERT,
      ).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(e?.name, name).toBe('FmnError');
      expect(e?.message).toContain(join(dir, bad));
      expect(e?.message).toMatch(re);
    }
  });
});
