/**
 * HuggingFace tokenizers from a model folder, through `@huggingface/tokenizers`.
 *
 * `tokenizer.json` is used as is. Without it, the equivalent `tokenizer.json` object is built in
 * memory the way transformers' slow->fast converters do, and handed to the same library:
 * - `vocab.txt` (BERT / DistilBERT / ELECTRA WordPiece): BertNormalizer (clean text, Chinese
 *   characters split, `do_lower_case` from tokenizer_config.json, default true;
 *   `strip_accents` from tokenizer_config.json, default: follows lower-casing), BertPreTokenizer,
 *   WordPiece with "##" continuation and [UNK].
 * - `vocab.json` + `merges.txt` (RoBERTa): byte-level pre-tokenizer (`add_prefix_space` from
 *   tokenizer_config.json, default false) and byte-level BPE.
 *
 * Special tokens and truncation are applied here (the library does not truncate): each text is
 * tokenized without special tokens, the pair is truncated `longest_first` exactly as the Rust
 * `tokenizers` crate does, then the post-processor's template adds the special tokens:
 * BERT/ELECTRA/DistilBERT `[CLS] a [SEP] b [SEP]` with token types 0.../1...; RoBERTa
 * `<s> a </s></s> b </s>`. The template is read from tokenizer.json's post_processor when it
 * has one (BertProcessing, RobertaProcessing, TemplateProcessing, or a Sequence holding one),
 * else taken from the tokenizer conventions of the model type's registered adapter
 * (`ArchitectureAdapter.tokenizer`), which also give the special tokens' default strings and
 * whether the model takes token types. For a model type without a registered adapter (or none),
 * the conventions of the vocabulary's format are used: WordPiece as BERT's, byte-level BPE as
 * RoBERTa's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  FmnError,
  getAdapter,
  readJsonFile,
  regularFileSize,
  type HfConfig,
  type SpecialTokenStrings,
  type TokenizerConventions,
} from '@fmn/core';
import { checkJsonObject, checkTokenizerJson, checkVocabObject, checkVocabText } from './tokenizer-checks.js';

type Json = Record<string, unknown>;

/** One piece of a special-token template. */
export type TemplatePiece =
  | { readonly kind: 'special'; readonly ids: readonly number[]; readonly typeId: number }
  | { readonly kind: 'sequence'; readonly which: 'A' | 'B'; readonly typeId: number };

export interface SpecialTemplate {
  readonly single: readonly TemplatePiece[];
  readonly pair: readonly TemplatePiece[];
}

export interface EncodedText {
  readonly inputIds: number[];
  /** token type of every position (all 0 for single inputs and RoBERTa) */
  readonly tokenTypeIds: number[];
}

const typeVocabSize = (config: HfConfig, fallback: number): number =>
  typeof config.type_vocab_size === 'number' ? config.type_vocab_size : fallback;

/** The conventions of a WordPiece vocabulary (BERT's), for a model type without a registered adapter. */
export const WORDPIECE_CONVENTIONS: TokenizerConventions = {
  template: 'bert',
  specialTokens: { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' },
  files: ['vocab.txt'],
  usesTokenTypes: (config) => typeVocabSize(config, 2) > 1,
};

/** The conventions of a byte-level BPE vocabulary (RoBERTa's), for a model type without a registered adapter. */
export const BYTE_LEVEL_BPE_CONVENTIONS: TokenizerConventions = {
  template: 'roberta',
  specialTokens: { cls: '<s>', sep: '</s>', pad: '<pad>', unk: '<unk>', mask: '<mask>' },
  files: ['vocab.json', 'merges.txt'],
  usesTokenTypes: (config) => typeVocabSize(config, 1) > 1,
};

/** The tokenizer conventions of the adapter registered for a config's model_type, if there is one. */
export function registeredTokenizerConventions(config: HfConfig): TokenizerConventions | undefined {
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  return modelType ? getAdapter(modelType)?.tokenizer : undefined;
}

/** Whether a tokenizer file is there; a FIFO or device under its name is an error (reading it would block). */
async function exists(path: string): Promise<boolean> {
  return (await regularFileSize(path)) !== undefined;
}

/**
 * Whether a model takes token type ids, from its config.json, as the registered adapter of its
 * model_type says (`tokenizer.usesTokenTypes`). Without one: a type vocabulary of more than one
 * (default 2, or 1 when `byteLevelBpe`, a tokenizer found to be byte-level BPE).
 */
export function configUsesTokenTypes(config: HfConfig, byteLevelBpe = false): boolean {
  const conventions =
    registeredTokenizerConventions(config) ??
    (byteLevelBpe ? BYTE_LEVEL_BPE_CONVENTIONS : WORDPIECE_CONVENTIONS);
  return conventions.usesTokenTypes(config);
}

/** A special token entry of tokenizer_config.json: a string or a serialized AddedToken. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string')
    return (v as Json).content as string;
  return undefined;
}

/** A loaded tokenizer with the special-token template of its architecture. */
export class TextTokenizer {
  constructor(
    /** the underlying @huggingface/tokenizers tokenizer */
    readonly tokenizer: Tokenizer,
    readonly template: SpecialTemplate,
    /** the model's pad id (config pad_token_id, else the tokenizer's pad token) */
    readonly padTokenId: number,
    /** whether the model takes token_type_ids (the architecture's tokenizer conventions decide) */
    readonly usesTokenTypes: boolean,
    /** where it came from: "tokenizer.json", "vocab.txt" or "vocab.json+merges.txt" */
    readonly source: string,
    /** the folder it was loaded from (for messages) */
    readonly dir: string,
  ) {}

  /** Special tokens added to a single input (`pair` false) or a pair. */
  numSpecialTokens(pair: boolean): number {
    let n = 0;
    for (const p of pair ? this.template.pair : this.template.single)
      if (p.kind === 'special') n += p.ids.length;
    return n;
  }

  /** Token ids of `text` without special tokens. */
  tokenize(text: string): number[] {
    const enc = this.tokenizer.encode(text, { add_special_tokens: false });
    for (let i = 0; i < enc.ids.length; i++) {
      if (enc.ids[i] === undefined) {
        throw new FmnError(
          `token ${JSON.stringify(enc.tokens[i])} is not in the vocabulary and the tokenizer has no unknown token`,
          this.dir,
        );
      }
    }
    return enc.ids;
  }

  /**
   * Encodes a single text or a pair with special tokens, truncated `longest_first` so the
   * result has at most `maxLength` tokens (special tokens included).
   */
  encode(a: string, b?: string, maxLength = Infinity): EncodedText {
    const pair = b !== undefined;
    let ida = this.tokenize(a);
    let idb = pair ? this.tokenize(b) : [];
    const budget = maxLength - this.numSpecialTokens(pair);
    if (budget < 0) {
      throw new FmnError(
        `max length ${maxLength} is shorter than the ${this.numSpecialTokens(pair)} special tokens of a ${pair ? 'pair' : 'single'} input`,
      );
    }
    [ida, idb] = truncateLongestFirst(ida, pair ? idb : undefined, budget);
    const inputIds: number[] = [];
    const tokenTypeIds: number[] = [];
    for (const p of pair ? this.template.pair : this.template.single) {
      const ids = p.kind === 'special' ? p.ids : p.which === 'A' ? ida : idb;
      for (const id of ids) {
        inputIds.push(id);
        tokenTypeIds.push(p.typeId);
      }
    }
    return { inputIds, tokenTypeIds };
  }
}

/**
 * `longest_first` truncation of the Rust `tokenizers` crate (what HF fast tokenizers do): with
 * n1 <= n2 the lengths of the shorter and longer input, keep n1 and give the longer one
 * max(n1, budget - n1); if that still exceeds the budget, the first input keeps floor(budget/2)
 * and the second ceil(budget/2). Single inputs are cut to the budget. Tokens are cut at the end.
 */
export function truncateLongestFirst(
  a: number[],
  b: number[] | undefined,
  budget: number,
): [number[], number[]] {
  if (b === undefined) return [a.length > budget ? a.slice(0, budget) : a, []];
  if (a.length + b.length <= budget) return [a, b];
  let n1 = a.length;
  let n2 = b.length;
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [a.slice(0, n1), b.slice(0, n2)];
}

function idOf(tok: Tokenizer, token: string, dir: string): number {
  const id = tok.token_to_id(token);
  if (id === undefined)
    throw new FmnError(`special token ${JSON.stringify(token)} is not in the vocabulary`, dir);
  return id;
}

/** The template of a tokenizer.json post_processor, when it is one we understand. */
function templateFromPostProcessor(pp: unknown, dir: string): SpecialTemplate | undefined {
  if (!pp || typeof pp !== 'object') return undefined;
  const p = pp as Json;
  const special = (entry: unknown, typeId: number): TemplatePiece => {
    if (!Array.isArray(entry) || typeof entry[1] !== 'number') {
      throw new FmnError(
        'tokenizer.json post_processor: malformed special token entry',
        join(dir, 'tokenizer.json'),
      );
    }
    return { kind: 'special', ids: [entry[1]], typeId };
  };
  const A = (typeId: number): TemplatePiece => ({ kind: 'sequence', which: 'A', typeId });
  const B = (typeId: number): TemplatePiece => ({ kind: 'sequence', which: 'B', typeId });
  switch (p.type) {
    case 'BertProcessing':
      return {
        single: [special(p.cls, 0), A(0), special(p.sep, 0)],
        pair: [special(p.cls, 0), A(0), special(p.sep, 0), B(1), special(p.sep, 1)],
      };
    case 'RobertaProcessing':
      return {
        single: [special(p.cls, 0), A(0), special(p.sep, 0)],
        pair: [special(p.cls, 0), A(0), special(p.sep, 0), special(p.sep, 0), B(0), special(p.sep, 0)],
      };
    case 'TemplateProcessing': {
      const specials = (p.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const convert = (items: unknown): TemplatePiece[] =>
        (items as Json[]).map((item) => {
          if (item.SpecialToken) {
            const s = item.SpecialToken as { id: string; type_id?: number };
            const ids = specials[s.id]?.ids;
            if (!ids) {
              throw new FmnError(
                `tokenizer.json post_processor: special token ${s.id} has no ids`,
                join(dir, 'tokenizer.json'),
              );
            }
            return { kind: 'special', ids, typeId: s.type_id ?? 0 };
          }
          const s = item.Sequence as { id: 'A' | 'B'; type_id?: number };
          return { kind: 'sequence', which: s.id, typeId: s.type_id ?? 0 };
        });
      return { single: convert(p.single), pair: convert(p.pair) };
    }
    case 'Sequence': {
      for (const q of (p.processors ?? []) as unknown[]) {
        const t = templateFromPostProcessor(q, dir);
        if (t) return t;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

export interface SpecialStrings {
  cls: string;
  sep: string;
  pad: string;
  unk: string;
  mask: string;
}

/** The special tokens' strings: tokenizer_config.json's, else special_tokens_map.json's, else `d`. */
export function specialStrings(d: SpecialTokenStrings, tokConfig: Json, specialMap: Json): SpecialStrings {
  const get = (k: keyof SpecialStrings): string =>
    tokenString(tokConfig[`${k}_token`]) ?? tokenString(specialMap[`${k}_token`]) ?? d[k];
  return { cls: get('cls'), sep: get('sep'), pad: get('pad'), unk: get('unk'), mask: get('mask') };
}

async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new FmnError(`cannot read tokenizer file (${(e as NodeJS.ErrnoException).code})`, path);
  }
}

/** tokenizer.json equivalent of a BERT WordPiece `vocab.txt` (transformers' BertConverter). */
export function wordPieceTokenizerJson(vocabText: string, tokConfig: Json, s: SpecialStrings): Json {
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  const lines = vocabText.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((t, i) => {
    vocab[t] = i;
  });
  const specials = [s.pad, s.unk, s.cls, s.sep, s.mask].filter(
    (t, i, all) => Object.hasOwn(vocab, t) && all.indexOf(t) === i,
  );
  const lowercase = typeof tokConfig.do_lower_case === 'boolean' ? tokConfig.do_lower_case : true;
  const stripAccents = typeof tokConfig.strip_accents === 'boolean' ? tokConfig.strip_accents : null;
  return {
    version: '1.0',
    added_tokens: specials.map((t) => ({
      id: vocab[t],
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: tokConfig.tokenize_chinese_chars !== false,
      strip_accents: stripAccents,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: s.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** tokenizer.json equivalent of RoBERTa's `vocab.json` + `merges.txt` (transformers' RobertaConverter). */
export function byteLevelBpeTokenizerJson(
  vocab: Record<string, number>,
  mergesText: string,
  tokConfig: Json,
  s: SpecialStrings,
): Json {
  const merges = mergesText
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#version'));
  const specials = [s.cls, s.pad, s.sep, s.unk, s.mask].filter(
    (t, i, all) => Object.hasOwn(vocab, t) && all.indexOf(t) === i,
  );
  const addPrefixSpace = tokConfig.add_prefix_space === true;
  return {
    version: '1.0',
    added_tokens: specials.map((t) => ({
      id: vocab[t],
      content: t,
      single_word: false,
      lstrip: t === s.mask,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: addPrefixSpace,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab,
      merges,
    },
  };
}

/**
 * Loads the tokenizer of a HuggingFace model folder: `tokenizer.json`, else `vocab.txt`
 * (WordPiece), else `vocab.json` + `merges.txt` (byte-level BPE); settings from
 * `tokenizer_config.json` and `special_tokens_map.json` when present. `config` is the model's
 * config.json (model_type, pad_token_id, type_vocab_size).
 */
export async function loadTokenizer(modelDir: string, config: HfConfig = {}): Promise<TextTokenizer> {
  const tokConfigPath = join(modelDir, 'tokenizer_config.json');
  const tokConfig: Json = (await exists(tokConfigPath))
    ? checkJsonObject(
        await readJsonFile(tokConfigPath, 'tokenizer config'),
        tokConfigPath,
        'tokenizer_config.json',
      )
    : {};
  const mapPath = join(modelDir, 'special_tokens_map.json');
  const specialMap: Json = (await exists(mapPath))
    ? checkJsonObject(await readJsonFile(mapPath, 'special tokens map'), mapPath, 'special_tokens_map.json')
    : {};

  let json: Json;
  let source: string;
  let file: string;
  const registered = registeredTokenizerConventions(config);
  let conventions = registered ?? WORDPIECE_CONVENTIONS;
  if (await exists(join(modelDir, 'tokenizer.json'))) {
    file = join(modelDir, 'tokenizer.json');
    json = checkTokenizerJson(await readJsonFile(file, 'tokenizer'), file);
    source = 'tokenizer.json';
    if (!registered && (json.model as Json | undefined)?.type === 'BPE')
      conventions = BYTE_LEVEL_BPE_CONVENTIONS;
  } else if (await exists(join(modelDir, 'vocab.txt'))) {
    file = join(modelDir, 'vocab.txt');
    const s = specialStrings(conventions.specialTokens, tokConfig, specialMap);
    const text = await readTextFile(file);
    checkVocabText(text, file);
    json = wordPieceTokenizerJson(text, tokConfig, s);
    source = 'vocab.txt';
  } else if ((await exists(join(modelDir, 'vocab.json'))) && (await exists(join(modelDir, 'merges.txt')))) {
    file = join(modelDir, 'vocab.json');
    if (!registered) conventions = BYTE_LEVEL_BPE_CONVENTIONS;
    const s = specialStrings(conventions.specialTokens, tokConfig, specialMap);
    const vocab = await readJsonFile<Record<string, number>>(file, 'BPE vocabulary');
    checkVocabObject(vocab, file, 'vocab.json');
    json = byteLevelBpeTokenizerJson(vocab, await readTextFile(join(modelDir, 'merges.txt')), tokConfig, s);
    source = 'vocab.json+merges.txt';
  } else {
    throw new FmnError(
      'no tokenizer found: expected tokenizer.json, vocab.txt, or vocab.json + merges.txt',
      modelDir,
    );
  }
  json.added_tokens ??= [];

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, tokConfig);
  } catch (e) {
    throw new FmnError(`cannot build tokenizer: ${(e as Error).message}`, file, { cause: e });
  }

  const s = specialStrings(conventions.specialTokens, tokConfig, specialMap);
  let template = templateFromPostProcessor(json.post_processor, modelDir);
  if (!template) {
    const cls = idOf(tokenizer, s.cls, modelDir);
    const sep = idOf(tokenizer, s.sep, modelDir);
    const sp = (id: number, typeId: number): TemplatePiece => ({ kind: 'special', ids: [id], typeId });
    const roberta = conventions.template === 'roberta';
    template = roberta
      ? {
          single: [sp(cls, 0), { kind: 'sequence', which: 'A', typeId: 0 }, sp(sep, 0)],
          pair: [
            sp(cls, 0),
            { kind: 'sequence', which: 'A', typeId: 0 },
            sp(sep, 0),
            sp(sep, 0),
            { kind: 'sequence', which: 'B', typeId: 0 },
            sp(sep, 0),
          ],
        }
      : {
          single: [sp(cls, 0), { kind: 'sequence', which: 'A', typeId: 0 }, sp(sep, 0)],
          pair: [
            sp(cls, 0),
            { kind: 'sequence', which: 'A', typeId: 0 },
            sp(sep, 0),
            { kind: 'sequence', which: 'B', typeId: 1 },
            sp(sep, 1),
          ],
        };
  }

  let padTokenId: number;
  if (typeof config.pad_token_id === 'number') padTokenId = config.pad_token_id;
  else padTokenId = tokenizer.token_to_id(s.pad) ?? 0;

  const usesTokenTypes = conventions.usesTokenTypes(config);
  return new TextTokenizer(tokenizer, template, padTokenId, usesTokenTypes, source, modelDir);
}
