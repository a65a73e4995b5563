/**
 * BERT's basic tokenizer, as HuggingFace's BertNormalizer (clean_text, handle_chinese_chars,
 * strip_accents, lowercase) followed by BertPreTokenizer (split on whitespace, isolate every
 * punctuation character).
 */

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  const cp = ch.codePointAt(0)!;
  if (cp >= 32 && cp < 127) return false;
  return /^[\p{Cc}\p{Cf}]$/u.test(ch);
}

function isWhitespace(ch: string): boolean {
  if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') return true;
  const cp = ch.codePointAt(0)!;
  if (cp < 127) return false;
  return /^\p{Zs}$/u.test(ch);
}

/** BERT's punctuation: ASCII non-alphanumeric printable symbols, or any Unicode P* character. */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (
    (cp >= 33 && cp <= 47) ||
    (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  if (cp < 127) return false;
  return /^\p{P}$/u.test(ch);
}

function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BertNormalizer with clean_text, handle_chinese_chars, strip_accents and lowercase all on. */
export function bertNormalize(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) out += ' ';
    else if (isChinese(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
}

/** BertPreTokenizer: whitespace split, each punctuation character its own word. */
export function bertPreTokenize(normalized: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const ch of normalized) {
    if (isWhitespace(ch)) {
      if (cur) words.push(cur);
      cur = '';
    } else if (isPunctuation(ch)) {
      if (cur) words.push(cur);
      words.push(ch);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) words.push(cur);
  return words;
}

/** Normalize then pre-tokenize, as BERT's BasicTokenizer with do_lower_case. */
export function basicTokenize(text: string): string[] {
  return bertPreTokenize(bertNormalize(text));
}
