/**
 * Cross-checks against the testkit's HuggingFace-layout fixture checkpoints (written by another
 * package, in HuggingFace's own file formats): for every architecture, the fixture's
 * tokenizer.json and our in-memory fallback from vocab.txt (or vocab.json + merges.txt) must give
 * identical ids, and a few sentences match ids derived by hand from the fixture vocabularies.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The tokenizer conventions come from the registered adapters, as in the CLI.
import '@fmn/arch-bert';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import '@fmn/arch-roberta';
import * as testkit from '@fmn/testkit';
import { loadTokenizer } from './tokenizer.js';

const SENTENCES: [string, string | undefined][] = [
  ['The movie was great!', undefined],
  ['I love this film.', 'It is not boring, really?'],
  ['Café prices (2024): 3-4 dollars', 'naïve "quotes" and dogs'],
  ['  leading   spaces\tand tabs\n', 'UPPER case Words'],
  ['the cat sleeps', 'a dog runs on the mat'],
];

const have = 'writeCheckpoint' in testkit && 'FIXTURE_ARCHS' in testkit;

describe.skipIf(!have)('testkit fixture tokenizers', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmn-data-fix-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const arch of ['bert', 'roberta', 'distilbert', 'electra'] as const) {
    it(`${arch}: tokenizer.json and the vocab-file fallback agree`, async () => {
      const dir = join(root, arch);
      const ck = await testkit.writeCheckpoint(dir, arch, {
        hidden: 8,
        heads: 2,
        layers: 1,
        intermediate: 8,
      });
      const fallbackDir = join(root, `${arch}-fallback`);
      await mkdir(fallbackDir);
      const files =
        arch === 'roberta'
          ? ['vocab.json', 'merges.txt', 'tokenizer_config.json']
          : ['vocab.txt', 'tokenizer_config.json'];
      for (const f of files) await copyFile(join(dir, f), join(fallbackDir, f));
      const fromJson = await loadTokenizer(dir, ck.config);
      const fromVocab = await loadTokenizer(fallbackDir, ck.config);
      expect(fromJson.source).toBe('tokenizer.json');
      expect(fromVocab.source).not.toBe('tokenizer.json');
      expect(fromVocab.padTokenId).toBe(fromJson.padTokenId);
      expect(fromJson.usesTokenTypes).toBe(arch === 'bert' || arch === 'electra');
      for (const [a, b] of SENTENCES) {
        expect(fromVocab.encode(a, b, 24)).toEqual(fromJson.encode(a, b, 24));
      }
    });
  }

  it('bert: ids derived by hand from the fixture vocabulary', async () => {
    const vocab = testkit.wordPieceVocab();
    const id = (t: string) => {
      const i = vocab.indexOf(t);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    const ck = await testkit.writeCheckpoint(join(root, 'bert-hand'), 'bert', {
      hidden: 8,
      heads: 2,
      layers: 1,
      intermediate: 8,
    });
    const tok = await loadTokenizer(ck.dir, ck.config);
    // "Cats" -> cat ##s (lower-cased); "zebra" is no word of the vocabulary -> letters z ##e ##b ##r ##a
    expect(tok.encode('The Cats!', 'zebra')).toEqual({
      inputIds: [
        id('[CLS]'),
        id('the'),
        id('cat'),
        id('##s'),
        id('!'),
        id('[SEP]'),
        id('z'),
        id('##e'),
        id('##b'),
        id('##r'),
        id('##a'),
        id('[SEP]'),
      ],
      tokenTypeIds: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    });
  });

  it('roberta: ids derived by hand from the fixture vocabulary', async () => {
    const { vocab } = testkit.bpeVocab();
    const id = (t: string) => {
      const i = vocab.get(t);
      expect(i).toBeDefined();
      return i!;
    };
    const ck = await testkit.writeCheckpoint(join(root, 'roberta-hand'), 'roberta', {
      hidden: 8,
      heads: 2,
      layers: 1,
      intermediate: 8,
    });
    const tok = await loadTokenizer(ck.dir, ck.config);
    // whole words are in the vocabulary with and without the leading-space marker Ġ
    expect(tok.encode('the movie', 'good fun').inputIds).toEqual([
      id('<s>'),
      id('the'),
      id('Ġmovie'),
      id('</s>'),
      id('</s>'),
      id('good'),
      id('Ġfun'),
      id('</s>'),
    ]);
    expect(tok.padTokenId).toBe(id('<pad>'));
  });
});
