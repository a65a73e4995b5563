/**
 * A byte-level BPE trainer (GPT-2 / RoBERTa style), its encoder, and the HuggingFace files.
 * Pre-tokenization: GPT-2's regex over the raw text (no lower-casing, no prefix space), each
 * piece's UTF-8 bytes mapped to printable characters by GPT-2's byte-to-unicode table (a space
 * becomes `Ġ`). Vocabulary: <s>=0 <pad>=1 </s>=2 <unk>=3, the 256 byte characters, the merged
 * symbols in merge order, and <mask> last (as RoBERTa).
 */
import { learnMerges, type WordCount } from './merges.js';

export const BPE_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'] as const;
export const BPE_MASK = '<mask>';
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible byte -> printable character table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i])));
  return table;
}

const BYTE_CHARS = bytesToUnicode();
const encoder = new TextEncoder();

/** Pre-tokenize and byte-map a text: the byte-level "words". */
export function byteLevelPieces(text: string): string[] {
  return (text.match(GPT2_SPLIT) ?? []).map((p) => [...encoder.encode(p)].map((b) => BYTE_CHARS[b]).join(''));
}

export interface ByteBpe {
  vocab: string[];
  merges: [string, string][];
}

/** Train a byte-level BPE with `vocabSize` entries in total (specials, bytes, merges, <mask>). */
export function trainByteBpe(lines: Iterable<string>, vocabSize: number): ByteBpe {
  const counts = new Map<string, number>();
  for (const line of lines) for (const p of byteLevelPieces(line)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const words: WordCount[] = [...counts]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w, count]) => ({ symbols: [...w], count }));
  const byteOrder = [...BYTE_CHARS];
  const vocab: string[] = [...BPE_SPECIALS, ...byteOrder];
  const have = new Set(vocab);
  const merges = learnMerges(
    words,
    vocabSize - vocab.length - 1,
    (a, b) => a + b,
    (m) => {
      if (have.has(m)) return false;
      have.add(m);
      vocab.push(m);
      return true;
    },
  );
  vocab.push(BPE_MASK);
  return { vocab, merges };
}

/** BPE-encode one byte-mapped word: repeatedly merge the adjacent pair of lowest merge rank. */
export function bpeWord(word: string, ranks: ReadonlyMap<string, number>): string[] {
  let s = [...word];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < s.length; i++) {
      const r = ranks.get(`${s[i]} ${s[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return s;
    const [a, b] = [s[best], s[best + 1]];
    const out: string[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
        out.push(a + b);
        i++;
      } else out.push(s[i]);
    }
    s = out;
  }
}

/** Encode as RoBERTa: <s> a </s> (</s> b </s>). */
export function encodeByteBpe(bpe: ByteBpe, a: string, b?: string): { ids: number[]; tokens: string[] } {
  const vocab = new Map(bpe.vocab.map((t, i) => [t, i] as const));
  const ranks = new Map(bpe.merges.map(([x, y], i) => [`${x} ${y}`, i] as const));
  const pieces = (t: string): string[] => byteLevelPieces(t).flatMap((w) => bpeWord(w, ranks));
  const tokens = ['<s>', ...pieces(a), '</s>'];
  if (b !== undefined) tokens.push('</s>', ...pieces(b), '</s>');
  return { ids: tokens.map((t) => vocab.get(t)!), tokens };
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`;

/** HuggingFace files for a RoBERTa tokenizer: vocab.json, merges.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json. */
export function byteBpeFiles(bpe: ByteBpe, modelMaxLength: number): Record<string, string> {
  const id = (t: string): number => bpe.vocab.indexOf(t);
  const specials = [...BPE_SPECIALS, BPE_MASK];
  const vocabObj = Object.fromEntries(bpe.vocab.map((t, i) => [t, i]));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: t === BPE_MASK,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', id('</s>')],
      cls: ['<s>', id('<s>')],
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
      ignore_merges: false,
      vocab: vocabObj,
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const map = {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    sep_token: '</s>',
    pad_token: '<pad>',
    cls_token: '<s>',
    mask_token: { content: BPE_MASK, single_word: false, lstrip: true, rstrip: false, normalized: false },
  };
  const config = {
    tokenizer_class: 'RobertaTokenizer',
    add_prefix_space: false,
    trim_offsets: true,
    errors: 'replace',
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    ...map,
    mask_token: BPE_MASK,
  };
  return {
    'vocab.json': json(vocabObj),
    'merges.txt': `#version: 0.2\n${bpe.merges.map(([a, b]) => `${a} ${b}`).join('\n')}\n`,
    'tokenizer.json': json(tokenizer),
    'tokenizer_config.json': json(config),
    'special_tokens_map.json': json(map),
  };
}
