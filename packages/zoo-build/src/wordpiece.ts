/**
 * A WordPiece vocabulary trainer (BERT style, `##` continuation prefix), the greedy
 * longest-match-first encoder, and the HuggingFace files for it.
 * Training: BERT basic tokenization (lower-case, accents stripped, punctuation split), then the
 * pair-merge loop over word pieces (as HuggingFace's WordPieceTrainer, which is BPE-based).
 */
import { basicTokenize } from './basic.js';
import { learnMerges, type WordCount } from './merges.js';

export const WP_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const WP_PREFIX = '##';
export const MAX_INPUT_CHARS_PER_WORD = 100;

/** Train a vocabulary of exactly `vocabSize` entries (if the corpus allows), ids in list order. */
export function trainWordPiece(lines: Iterable<string>, vocabSize: number): string[] {
  const wordCounts = new Map<string, number>();
  for (const line of lines)
    for (const w of basicTokenize(line)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  const sortedWords = [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const chars = new Set<string>();
  for (const [w] of sortedWords) for (const ch of w) chars.add(ch);
  const alphabet = [...chars].sort();
  const vocab: string[] = [...WP_SPECIALS];
  for (const ch of alphabet) vocab.push(ch);
  for (const ch of alphabet) vocab.push(WP_PREFIX + ch);
  const have = new Set(vocab);
  const words: WordCount[] = sortedWords.map(([w, count]) => ({
    symbols: [...w].map((ch, i) => (i === 0 ? ch : WP_PREFIX + ch)),
    count,
  }));
  const join = (a: string, b: string): string => a + b.slice(WP_PREFIX.length);
  learnMerges(words, vocabSize - vocab.length, join, (merged) => {
    if (have.has(merged)) return false;
    have.add(merged);
    vocab.push(merged);
    return true;
  });
  return vocab;
}

/** Greedy longest-match-first WordPiece on one pre-tokenized word; [UNK] if it cannot be split. */
export function wordPieceWord(word: string, vocab: ReadonlyMap<string, number>): string[] {
  const chars = [...word];
  if (chars.length > MAX_INPUT_CHARS_PER_WORD) return ['[UNK]'];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let piece: string | undefined;
    while (start < end) {
      const sub = (start > 0 ? WP_PREFIX : '') + chars.slice(start, end).join('');
      if (vocab.has(sub)) {
        piece = sub;
        break;
      }
      end--;
    }
    if (piece === undefined) return ['[UNK]'];
    out.push(piece);
    start = end;
  }
  return out;
}

export interface Encoded {
  ids: number[];
  tokens: string[];
  typeIds: number[];
}

/** Encode a text (or pair) as BERT does: [CLS] a [SEP] (b [SEP]). */
export function encodeWordPiece(vocabList: readonly string[], a: string, b?: string): Encoded {
  const vocab = new Map(vocabList.map((t, i) => [t, i] as const));
  const pieces = (t: string): string[] => basicTokenize(t).flatMap((w) => wordPieceWord(w, vocab));
  const tokens = ['[CLS]', ...pieces(a), '[SEP]'];
  const typeIds = tokens.map(() => 0);
  if (b !== undefined) {
    const pb = [...pieces(b), '[SEP]'];
    tokens.push(...pb);
    typeIds.push(...pb.map(() => 1));
  }
  return { ids: tokens.map((t) => vocab.get(t)!), tokens, typeIds };
}

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`;

/** HuggingFace files for a BERT tokenizer: vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json. */
export function wordPieceFiles(vocab: readonly string[], modelMaxLength: number): Record<string, string> {
  const id = (t: string): number => vocab.indexOf(t);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: WP_SPECIALS.map((t) => ({
      id: id(t),
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
      handle_chinese_chars: true,
      strip_accents: true,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: WP_PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: WP_PREFIX,
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
  const specials = {
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  };
  const config = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    do_basic_tokenize: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    ...specials,
  };
  return {
    'vocab.txt': `${vocab.join('\n')}\n`,
    'tokenizer.json': json(tokenizer),
    'tokenizer_config.json': json(config),
    'special_tokens_map.json': json(specials),
  };
}
