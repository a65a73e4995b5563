/**
 * Structural checks of tokenizer files before they reach @huggingface/tokenizers, which accepts
 * many malformed files and then tokenizes into garbage (an empty vocabulary maps everything to
 * nothing; ids above 2^32 wrap around). Every problem is an FmnError naming the file.
 */
import { FmnError } from '@fmn/core';

/** Token ids are int32 in every runtime fmn feeds (tfjs, onnxruntime's int64 inputs from int32). */
export const MAX_TOKEN_ID = 2 ** 31 - 1;

/** Most tokens a vocabulary may have (the config's vocab_size bound; real ones are below 300k). */
export const MAX_VOCAB_SIZE = 1 << 22;

type Json = Record<string, unknown>;

/** `value` must be a JSON object (not null, not an array, not a number or string). */
export function checkJsonObject(value: unknown, file: string, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new FmnError(`${what} must be a JSON object, got ${got}`, file);
  }
  return value as Json;
}

function isTokenId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TOKEN_ID;
}

function badId(v: unknown): string {
  return `${JSON.stringify(v)} is not a token id (an integer 0..${MAX_TOKEN_ID})`;
}

/** A token -> id vocabulary (tokenizer.json's WordPiece/BPE/WordLevel `model.vocab`, vocab.json). */
export function checkVocabObject(
  vocab: unknown,
  file: string,
  where = 'vocabulary',
  max = MAX_VOCAB_SIZE,
): void {
  const v = checkJsonObject(vocab, file, where);
  const entries = Object.entries(v);
  if (entries.length === 0) throw new FmnError(`${where} is empty`, file);
  if (entries.length > max)
    throw new FmnError(`${where} has ${entries.length} tokens, above the limit of ${max}`, file);
  for (const [token, id] of entries) {
    if (!isTokenId(id)) throw new FmnError(`${where}: token ${JSON.stringify(token)}: ${badId(id)}`, file);
  }
}

/** tokenizer.json: a model with a non-empty vocabulary of valid ids, well-formed added tokens. */
export function checkTokenizerJson(json: unknown, file: string): Json {
  const t = checkJsonObject(json, file, 'tokenizer.json');
  const model = checkJsonObject(t.model, file, 'tokenizer.json "model"');
  if (model.type === 'Unigram') {
    if (!Array.isArray(model.vocab) || model.vocab.length === 0)
      throw new FmnError(
        'tokenizer.json: Unigram "model.vocab" must be a non-empty array of [token, score]',
        file,
      );
    if (model.vocab.length > MAX_VOCAB_SIZE)
      throw new FmnError(
        `tokenizer.json: Unigram "model.vocab" has ${model.vocab.length} tokens, above the limit of ${MAX_VOCAB_SIZE}`,
        file,
      );
  } else {
    checkVocabObject(model.vocab, file, 'tokenizer.json "model.vocab"');
  }
  if (t.added_tokens !== undefined && t.added_tokens !== null) {
    if (!Array.isArray(t.added_tokens))
      throw new FmnError('tokenizer.json: "added_tokens" must be an array', file);
    t.added_tokens.forEach((a: unknown, i) => {
      const at = checkJsonObject(a, file, `tokenizer.json "added_tokens"[${i}]`);
      if (!isTokenId(at.id)) throw new FmnError(`tokenizer.json "added_tokens"[${i}]: ${badId(at.id)}`, file);
      if (typeof at.content !== 'string' || at.content === '')
        throw new FmnError(`tokenizer.json "added_tokens"[${i}]: "content" must be a non-empty string`, file);
    });
  }
  return t;
}

/** vocab.txt: one token per line, at least one. */
export function checkVocabText(text: string, file: string, max = MAX_VOCAB_SIZE): void {
  if (text.replace(/\r?\n$/, '') === '') throw new FmnError('vocab.txt is empty', file);
  const body = text.replace(/\r?\n$/, '');
  let lines = 1;
  for (let i = body.indexOf('\n'); i >= 0 && lines <= max; i = body.indexOf('\n', i + 1)) lines++;
  if (lines > max) throw new FmnError(`vocab.txt has more than ${max} tokens, the limit`, file);
}
