import { FmnError, type Batch } from '@fmn/core';
import type { Dataset, TextExample, TokenizedExample } from './dataset.js';
import type { TextTokenizer } from './tokenizer.js';

/** One example ready for batching. */
export interface EncodedExample {
  readonly inputIds: readonly number[];
  /** absent = all ones */
  readonly attentionMask?: readonly number[];
  /** absent = all zeros */
  readonly tokenTypeIds?: readonly number[];
  /** class id or regression target; absent when the dataset has no labels */
  readonly label?: number;
}

export interface EncodeOptions {
  /** maximum tokens per example, special tokens included (default 128, run_glue's default) */
  maxLength?: number;
  /** labels for every example of the dataset (from `resolveLabels`), in example order */
  labels?: ArrayLike<number>;
  /** the model's vocabulary size: every token id must be below it (an error names the example) */
  vocabSize?: number;
}

function checkIds(
  ids: readonly number[],
  vocabSize: number | undefined,
  where: () => string,
  file: string,
): void {
  if (vocabSize === undefined) return;
  for (let t = 0; t < ids.length; t++) {
    if (ids[t]! >= vocabSize)
      throw new FmnError(
        `${where()}: token id ${ids[t]} at position ${t} is outside the model's vocabulary (size ${vocabSize})`,
        file,
      );
  }
}

/**
 * Tokenizes a dataset's examples (text datasets) or checks them (pre-tokenized datasets, which
 * must already fit `maxLength`, and need only to know whether the model takes token types). Pass `examples` to encode a subset (e.g. a sample) together
 * with the labels of exactly those examples.
 */
export function encodeExamples(
  dataset: Dataset,
  tokenizer: TextTokenizer | { readonly usesTokenTypes: boolean },
  options: EncodeOptions & { examples?: readonly (TextExample | TokenizedExample)[] } = {},
): EncodedExample[] {
  const maxLength = options.maxLength ?? 128;
  const examples = options.examples ?? dataset.examples;
  const labels = options.labels;
  if (labels && labels.length !== examples.length) {
    throw new FmnError(`${labels.length} labels given for ${examples.length} examples`, dataset.file);
  }
  return examples.map((ex, i) => {
    const label = labels ? labels[i] : undefined;
    if ('inputIds' in ex) {
      if (ex.inputIds.length > maxLength) {
        throw new FmnError(
          `${dataset.unit} ${ex.line}: pre-tokenized example has ${ex.inputIds.length} tokens, more than the maximum length ${maxLength}`,
          ex.file,
        );
      }
      checkIds(ex.inputIds, options.vocabSize, () => `${dataset.unit} ${ex.line}`, ex.file);
      return {
        inputIds: ex.inputIds,
        attentionMask: ex.attentionMask,
        tokenTypeIds: tokenizer.usesTokenTypes ? ex.tokenTypeIds : undefined,
        label,
      };
    }
    if (!('encode' in tokenizer))
      throw new FmnError(`${dataset.unit} ${ex.line}: a text example, but no tokenizer was given`, ex.file);
    const enc = tokenizer.encode(ex.a, ex.b, maxLength);
    checkIds(
      enc.inputIds,
      options.vocabSize,
      () =>
        `${dataset.unit} ${ex.line}: the tokenizer (${tokenizer.source} in ${tokenizer.dir}) gave an id the model cannot embed`,
      ex.file,
    );
    return {
      inputIds: enc.inputIds,
      tokenTypeIds: tokenizer.usesTokenTypes ? enc.tokenTypeIds : undefined,
      label,
    };
  });
}

export interface BatchOptions {
  /** examples per batch (METHOD.md default 32); the last batch may be smaller */
  batchSize: number;
  /** the model's pad token id */
  padTokenId: number;
  /** include tokenTypeIds (false for models without token types: DistilBERT, RoBERTa) */
  tokenTypes?: boolean;
  /**
   * Length bucketing: stable-sort the examples by length (shortest first) before cutting them
   * into consecutive batches, so each batch pads less. Changes which examples share a batch, so
   * use it only where that does not matter (the `example` Fisher convention, evaluation).
   */
  bucketing?: boolean;
}

/**
 * Cuts encoded examples into consecutive batches in the given order (or length-sorted with
 * `bucketing`), each padded on the right to its own longest example with `padTokenId` and
 * attention mask 0. Labels are included when every example has one.
 */
export function makeBatches(examples: readonly EncodedExample[], options: BatchOptions): Batch[] {
  const { batchSize, padTokenId } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new FmnError(`batch size must be a positive integer, got ${batchSize}`);
  const withLabels = examples.every((e) => e.label !== undefined);
  const order = examples.map((_, i) => i);
  if (options.bucketing)
    order.sort((x, y) => examples[x]!.inputIds.length - examples[y]!.inputIds.length || x - y);
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const size = idx.length;
    const seqLen = Math.max(...idx.map((i) => examples[i]!.inputIds.length));
    const inputIds = new Int32Array(size * seqLen).fill(padTokenId);
    const attentionMask = new Int32Array(size * seqLen);
    const tokenTypeIds = options.tokenTypes ? new Int32Array(size * seqLen) : undefined;
    const labels = withLabels ? new Float32Array(size) : undefined;
    idx.forEach((ei, r) => {
      const ex = examples[ei]!;
      const off = r * seqLen;
      for (let t = 0; t < ex.inputIds.length; t++) {
        inputIds[off + t] = ex.inputIds[t]!;
        attentionMask[off + t] = ex.attentionMask ? ex.attentionMask[t]! : 1;
        if (tokenTypeIds && ex.tokenTypeIds) tokenTypeIds[off + t] = ex.tokenTypeIds[t]!;
      }
      if (labels) labels[r] = ex.label!;
    });
    batches.push({ size, seqLen, inputIds, attentionMask, tokenTypeIds, labels });
  }
  return batches;
}
