/**
 * The tokenizer asks the registered adapter of a model type for its conventions (template,
 * special tokens, token types) instead of naming architectures: a new architecture registered
 * here, with conventions no built-in one has, is tokenized by them.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdapter, type ArchitectureAdapter } from '@fmn/core';
import { configUsesTokenTypes, loadTokenizer } from './tokenizer.js';
import { buildTokenizerJson } from './tokenizer-json.js';

// line i is token i
const VOCAB = ['<pad>', '<unk>', '<cls>', '<sep>', '<mask>', 'the', 'cat', 'sat'];

function adapter(modelType: string, tokenizer: ArchitectureAdapter['tokenizer']): ArchitectureAdapter {
  const no = () => {
    throw new Error('unused');
  };
  return {
    modelType,
    detect: (c) => c.model_type === modelType,
    maskLayout: no,
    load: no,
    toTensors: no,
    role: no,
    isTaskHead: no,
    prefix: `${modelType}.`,
    tokenizer,
  };
}

let root: string;
let dir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-tok-conv-'));
  dir = join(root, 'wordy');
  await mkdir(dir);
  await writeFile(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  registerAdapter(
    adapter('wordy', {
      template: 'roberta',
      specialTokens: { cls: '<cls>', sep: '<sep>', pad: '<pad>', unk: '<unk>', mask: '<mask>' },
      files: ['vocab.txt'],
      usesTokenTypes: () => false,
    }),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tokenizer conventions from the registered adapter', () => {
  it("a WordPiece vocabulary framed by the adapter's template and special tokens", async () => {
    const config = { model_type: 'wordy', type_vocab_size: 2 };
    const tok = await loadTokenizer(dir, config);
    expect(tok.source).toBe('vocab.txt');
    // <cls> the cat <sep> <sep> sat <sep>, all of type 0
    expect(tok.encode('the cat', 'sat')).toEqual({
      inputIds: [2, 5, 6, 3, 3, 7, 3],
      tokenTypeIds: [0, 0, 0, 0, 0, 0, 0],
    });
    expect(tok.usesTokenTypes).toBe(false);
    expect(configUsesTokenTypes(config)).toBe(false);
    expect(tok.padTokenId).toBe(0);
  });

  it('a model type without a registered adapter gets the conventions of its vocabulary format', async () => {
    const config = { model_type: 'unregistered', type_vocab_size: 2 };
    // WordPiece's default special tokens ([CLS], ...) are not in this vocabulary
    await expect(loadTokenizer(dir, config)).rejects.toThrow(
      /special token "\[CLS\]" is not in the vocabulary/,
    );
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ cls_token: '<cls>', sep_token: '<sep>' }),
    );
    try {
      const tok = await loadTokenizer(dir, config);
      // BERT's template: <cls> the cat <sep> sat <sep>, types 0 then 1
      expect(tok.encode('the cat', 'sat')).toEqual({
        inputIds: [2, 5, 6, 3, 7, 3],
        tokenTypeIds: [0, 0, 0, 0, 1, 1],
      });
      expect(tok.usesTokenTypes).toBe(true);
    } finally {
      await rm(join(dir, 'tokenizer_config.json'));
    }
  });

  it("tokenizer.json built from BPE vocab files takes the adapter's template and special tokens", async () => {
    const bpe = join(root, 'wordy-bpe');
    await mkdir(bpe);
    const vocab = Object.fromEntries([...VOCAB, 'Ġ', 'c', 'a', 't'].map((t, i) => [t, i]));
    await writeFile(join(bpe, 'vocab.json'), JSON.stringify(vocab));
    await writeFile(join(bpe, 'merges.txt'), '#version: 0.2\nc a\n');
    const json = (await buildTokenizerJson(bpe, { model_type: 'wordy' })) as {
      post_processor: Record<string, unknown>;
    };
    expect(json.post_processor).toMatchObject({
      type: 'RobertaProcessing',
      sep: ['<sep>', 3],
      cls: ['<cls>', 2],
    });
  });
});
