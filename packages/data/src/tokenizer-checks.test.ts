import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_VOCAB_SIZE, checkVocabObject, checkVocabText } from './tokenizer-checks.js';
import { loadTokenizer } from './tokenizer.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-tok-checks-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = join(root, `m${n++}`);
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const wordPiece = (vocab: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
    ...extra,
  });

async function failure(dir: string): Promise<string> {
  try {
    await loadTokenizer(dir, { model_type: 'bert' });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`loadTokenizer(${dir}) did not fail`);
}

describe('malformed tokenizer files are errors naming the file', () => {
  it('a well-formed tokenizer.json loads (the checks let good files through)', async () => {
    const vocab = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4, hello: 5 };
    const dir = await folder({ 'tokenizer.json': wordPiece(vocab) });
    const tok = await loadTokenizer(dir, { model_type: 'bert' });
    // [CLS] hello [SEP]
    expect(tok.encode('hello', undefined, 8).inputIds).toEqual([2, 5, 3]);
  });

  it.each([
    ['an array', '[1, 2]', /tokenizer\.json must be a JSON object, got an array/],
    [
      'no model',
      JSON.stringify({ version: '1.0' }),
      /tokenizer\.json "model" must be a JSON object, got a undefined/,
    ],
    ['an empty vocabulary', wordPiece({}), /"model\.vocab" is empty/],
    ['a string id', wordPiece({ '[UNK]': 0, hello: '1' }), /token "hello": "1" is not a token id/],
    [
      'an id beyond int32',
      wordPiece({ '[UNK]': 0, hello: 2 ** 32 + 1 }),
      /token "hello": 4294967297 is not a token id/,
    ],
    ['a negative id', wordPiece({ '[UNK]': -1 }), /token "\[UNK\]": -1 is not a token id/],
    [
      'an added token without an id',
      wordPiece({ '[UNK]': 0 }, { added_tokens: [{ content: '[CLS]' }] }),
      /"added_tokens"\[0\]: undefined is not a token id/,
    ],
    [
      'an added token with empty content',
      wordPiece({ '[UNK]': 0 }, { added_tokens: [{ id: 0, content: '' }] }),
      /"added_tokens"\[0\]: "content" must be a non-empty string/,
    ],
  ])('tokenizer.json with %s', async (_what, text, message) => {
    const dir = await folder({ 'tokenizer.json': text });
    const msg = await failure(dir);
    expect(msg).toContain(join(dir, 'tokenizer.json'));
    expect(msg).toMatch(message);
  });

  it('an empty vocab.txt', async () => {
    const dir = await folder({ 'vocab.txt': '\n' });
    const msg = await failure(dir);
    expect(msg).toContain(join(dir, 'vocab.txt'));
    expect(msg).toMatch(/vocab\.txt is empty/);
  });

  it('a vocab.json with a fractional id', async () => {
    const dir = await folder({
      'vocab.json': JSON.stringify({ a: 0, b: 1.5 }),
      'merges.txt': '#version: 0.2\n',
    });
    const msg = await failure(dir);
    expect(msg).toContain(join(dir, 'vocab.json'));
    expect(msg).toMatch(/token "b": 1\.5 is not a token id/);
  });

  it('a tokenizer_config.json that is not an object', async () => {
    const dir = await folder({ 'vocab.txt': '[UNK]\na\n', 'tokenizer_config.json': 'null' });
    const msg = await failure(dir);
    expect(msg).toContain(join(dir, 'tokenizer_config.json'));
    expect(msg).toMatch(/tokenizer_config\.json must be a JSON object, got null/);
  });

  it('a tokenizer.json that is a FIFO (reading it would block) is an error, not a silent fallback to vocab.txt', async () => {
    const dir = await folder({ 'vocab.txt': '[UNK]\na\n' });
    execFileSync('mkfifo', [join(dir, 'tokenizer.json')]);
    const msg = await failure(dir);
    expect(msg).toContain(join(dir, 'tokenizer.json'));
    expect(msg).toMatch(/is a FIFO \(named pipe\), a regular file was expected/);
  });

  it('a vocabulary above the size limit is refused, naming the file', () => {
    expect(MAX_VOCAB_SIZE).toBe(4_194_304);
    expect(() => checkVocabObject({ a: 0, b: 1, c: 2 }, '/m/vocab.json', 'vocab.json', 2)).toThrow(
      '/m/vocab.json: vocab.json has 3 tokens, above the limit of 2',
    );
    expect(() => checkVocabText('a\nb\nc\n', '/m/vocab.txt', 2)).toThrow(
      '/m/vocab.txt: vocab.txt has more than 2 tokens, the limit',
    );
    expect(() => checkVocabText('a\nb\n', '/m/vocab.txt', 2)).not.toThrow();
  });
});
