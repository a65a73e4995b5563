/**
 * Fuzz property: any mutation of one tokenizer file (tokenizer.json, vocab.txt, vocab.json,
 * merges.txt, tokenizer_config.json, special_tokens_map.json; bytes, or JSON values for .json
 * files), with or without tokenizer.json, loads to a tokenizer that encodes, or fails with an
 * FmnError naming the model folder or file, never another error.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import {
  applyByteMutations,
  applyJsonMutations,
  byteMutations,
  expectCleanOutcome,
  jsonMutations,
  runProperty,
  toJsonText,
} from '@fmn/fuzz';
import { bpeFiles, wordPieceFiles } from '@fmn/testkit';
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import { buildTokenizerJson } from './tokenizer-json.js';
import { loadTokenizer } from './tokenizer.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-tok-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const KINDS = [
  { files: wordPieceFiles('BertTokenizer', 32), config: { model_type: 'bert' } },
  { files: bpeFiles(32), config: { model_type: 'roberta' } },
];

describe('fuzz: tokenizer files', () => {
  it('mutations of one file: a working tokenizer or an FmnError naming the folder', async () => {
    let k = 0;
    await runProperty(
      'tokenizer files',
      fc.record({
        kind: fc.integer({ min: 0, max: KINDS.length - 1 }),
        pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        json: fc.boolean(),
        dropTokenizerJson: fc.boolean(),
        bytes: byteMutations(),
        values: jsonMutations(),
      }),
      async (c) => {
        const { files, config } = KINDS[c.kind]!;
        const dir = join(root, `t${k++}`);
        await mkdir(dir);
        const names = Object.keys(files).filter((n) => !(c.dropTokenizerJson && n === 'tokenizer.json'));
        const target = names[Math.floor(c.pick * names.length)]!;
        for (const name of names) {
          let text: string | Uint8Array = files[name]!;
          if (name === target) {
            text =
              c.json && name.endsWith('.json')
                ? toJsonText(applyJsonMutations(JSON.parse(text) as unknown, c.values))
                : applyByteMutations(Buffer.from(text), c.bytes);
          }
          await writeFile(join(dir, name), text);
        }
        await expectCleanOutcome(async () => {
          await buildTokenizerJson(dir, config);
          const tok = await loadTokenizer(dir, config);
          tok.encode('hello world, the cat sat', 'a second text', 16);
        }, dir);
      },
      120,
    );
  });
});
