import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { FmnError, readJsonFile, writeFileAtomic, type HfConfig } from '@fmn/core';
import {
  BYTE_LEVEL_BPE_CONVENTIONS,
  WORDPIECE_CONVENTIONS,
  byteLevelBpeTokenizerJson,
  registeredTokenizerConventions,
  specialStrings,
  wordPieceTokenizerJson,
  type SpecialStrings,
} from './tokenizer.js';
import { checkJsonObject, checkVocabObject, checkVocabText } from './tokenizer-checks.js';

/**
 * A complete tokenizer.json for a folder that has only the slow tokenizer's vocabulary files
 * (vocab.txt, or vocab.json + merges.txt), as transformers' slow->fast converters write it: the
 * in-memory tokenizer fmn builds from those files, plus the post-processor that adds the special
 * tokens (BertProcessing / RobertaProcessing), so transformers.js and AutoTokenizer's fast
 * tokenizers load it.
 */

type Json = Record<string, unknown>;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function idOf(vocab: Record<string, number>, token: string, file: string): number {
  const id = vocab[token];
  if (typeof id !== 'number') throw new FmnError(`special token ${token} is not in the vocabulary`, file);
  return id;
}

/**
 * The tokenizer.json to write into `dir`, built from its vocabulary files; undefined when the
 * folder already has a tokenizer.json or has no vocabulary files.
 */
export async function buildTokenizerJson(dir: string, config: HfConfig = {}): Promise<Json | undefined> {
  if (await isFile(join(dir, 'tokenizer.json'))) return undefined;
  const tcPath = join(dir, 'tokenizer_config.json');
  const tokConfig: Json = (await isFile(tcPath))
    ? checkJsonObject(await readJsonFile(tcPath, 'tokenizer config'), tcPath, 'tokenizer_config.json')
    : {};
  const mapPath = join(dir, 'special_tokens_map.json');
  const specialMap: Json = (await isFile(mapPath))
    ? checkJsonObject(await readJsonFile(mapPath, 'special tokens map'), mapPath, 'special_tokens_map.json')
    : {};
  const vocabTxt = join(dir, 'vocab.txt');
  const vocabJson = join(dir, 'vocab.json');
  const merges = join(dir, 'merges.txt');
  let json: Json;
  let s: SpecialStrings;
  let roberta: boolean;
  let file: string;
  if (await isFile(vocabTxt)) {
    roberta = false;
    file = vocabTxt;
    s = specialStrings(WORDPIECE_CONVENTIONS.specialTokens, tokConfig, specialMap);
    const text = await readFile(vocabTxt, 'utf8');
    checkVocabText(text, vocabTxt);
    json = wordPieceTokenizerJson(text, tokConfig, s);
  } else if ((await isFile(vocabJson)) && (await isFile(merges))) {
    // the registered adapter's template; without one, byte-level BPE's (RoBERTa's)
    const conventions = registeredTokenizerConventions(config) ?? BYTE_LEVEL_BPE_CONVENTIONS;
    roberta = conventions.template === 'roberta';
    file = vocabJson;
    s = specialStrings(conventions.specialTokens, tokConfig, specialMap);
    const vocab = await readJsonFile<Record<string, number>>(vocabJson, 'BPE vocabulary');
    checkVocabObject(vocab, vocabJson, 'vocab.json');
    json = byteLevelBpeTokenizerJson(vocab, await readFile(merges, 'utf8'), tokConfig, s);
  } else {
    return undefined;
  }
  const vocab = (json.model as { vocab: Record<string, number> }).vocab;
  const cls: [string, number] = [s.cls, idOf(vocab, s.cls, file)];
  const sep: [string, number] = [s.sep, idOf(vocab, s.sep, file)];
  json.post_processor = roberta
    ? {
        type: 'RobertaProcessing',
        sep,
        cls,
        trim_offsets: true,
        add_prefix_space: tokConfig.add_prefix_space === true,
      }
    : { type: 'BertProcessing', sep, cls };
  json.truncation = null;
  json.padding = null;
  return json;
}

/**
 * Writes tokenizer.json into `dir` (atomically) when the folder has vocabulary files but no
 * tokenizer.json. Returns whether it wrote one.
 */
export async function ensureTokenizerJson(dir: string, config: HfConfig = {}): Promise<boolean> {
  const json = await buildTokenizerJson(dir, config);
  if (!json) return false;
  await writeFileAtomic(join(dir, 'tokenizer.json'), `${JSON.stringify(json, null, 2)}\n`);
  return true;
}
