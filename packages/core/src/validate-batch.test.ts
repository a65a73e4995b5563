import { describe, expect, it } from 'vitest';
import type { Batch } from './backend.js';
import type { EncoderModel, PositionIds } from './encoder.js';
import { isFmnError } from './errors.js';
import { validateBatch } from './validate-batch.js';

/**
 * Only what validateBatch reads: vocabulary 10, 8 positions, 2 token types (or none), a
 * 3-class head (or regression, or none).
 */
function model(
  o: { tokenTypes?: boolean; positionIds?: PositionIds; numLabels?: number | null } = {},
): EncoderModel {
  const numLabels = o.numLabels === undefined ? 3 : o.numLabels;
  return {
    dims: { vocabSize: 10, maxPositions: 8 },
    embeddings: {
      positionIds: o.positionIds ?? { kind: 'absolute' },
      ...(o.tokenTypes !== false && { tokenType: { name: 't', shape: [2, 4], data: new Float32Array(8) } }),
    },
    ...(numLabels !== null && { head: { kind: 'classification', numLabels, steps: [] } }),
  } as unknown as EncoderModel;
}

/** 2 examples of 3 tokens; the second ends in one padding token. */
function batch(over: Partial<Record<keyof Batch, unknown>> = {}): Batch {
  return {
    size: 2,
    seqLen: 3,
    inputIds: Int32Array.of(1, 2, 3, 4, 5, 0),
    attentionMask: Int32Array.of(1, 1, 1, 1, 1, 0),
    tokenTypeIds: Int32Array.of(0, 1, 1, 0, 0, 0),
    labels: Float32Array.of(0, 2),
    ...over,
  } as Batch;
}

function message(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(isFmnError(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an FmnError');
}

describe('validateBatch', () => {
  it('accepts a well-formed batch, with and without labels and token types', () => {
    expect(() => validateBatch(model(), batch(), { labels: true })).not.toThrow();
    expect(() => validateBatch(model(), batch({ labels: undefined }))).not.toThrow();
    expect(() =>
      validateBatch(model({ tokenTypes: false }), batch({ tokenTypeIds: undefined })),
    ).not.toThrow();
    // regression targets need not be integers
    expect(() =>
      validateBatch(model({ numLabels: 1 }), batch({ labels: Float32Array.of(-0.5, 3.25) }), {
        labels: true,
      }),
    ).not.toThrow();
  });

  it('bad shapes', () => {
    expect(message(() => validateBatch(model(), batch({ size: 0 })))).toBe(
      'invalid batch: size 0 x seqLen 3 (both must be positive integers)',
    );
    expect(message(() => validateBatch(model(), batch({ seqLen: 1.5 })))).toMatch(/seqLen 1.5 \(both must/);
    expect(message(() => validateBatch(model(), batch({ inputIds: Int32Array.of(1, 2, 3) })))).toBe(
      'invalid batch: inputIds holds 3 values, expected 6',
    );
    expect(message(() => validateBatch(model(), batch({ attentionMask: new Int32Array(7) })))).toBe(
      'invalid batch: attentionMask holds 7 values, expected 6',
    );
    expect(message(() => validateBatch(model(), batch({ tokenTypeIds: new Int32Array(2) })))).toBe(
      'invalid batch: tokenTypeIds holds 2 values, expected 6',
    );
    expect(
      message(() => validateBatch(model(), batch({ labels: Float32Array.of(1) }), { labels: true })),
    ).toBe('invalid batch: labels holds 1 values, expected 2');
  });

  it('wrong dtypes', () => {
    expect(message(() => validateBatch(model(), batch({ inputIds: [1, 2, 3, 4, 5, 0] })))).toBe(
      'invalid batch: inputIds must be an Int32Array, got Array',
    );
    expect(message(() => validateBatch(model(), batch({ attentionMask: new Float32Array(6).fill(1) })))).toBe(
      'invalid batch: attentionMask must be an Int32Array, got Float32Array',
    );
    expect(message(() => validateBatch(model(), batch({ inputIds: undefined })))).toBe(
      'invalid batch: inputIds must be an Int32Array, got undefined',
    );
    expect(
      message(() => validateBatch(model(), batch({ labels: Int32Array.of(0, 1) }), { labels: true })),
    ).toBe('invalid batch: labels must be a Float32Array, got Int32Array');
  });

  it('out-of-range ids, mask values and token types', () => {
    expect(message(() => validateBatch(model(), batch({ inputIds: Int32Array.of(1, 2, 3, 4, 10, 0) })))).toBe(
      'invalid batch: token id 10 at position 4 is outside the vocabulary (size 10)',
    );
    expect(
      message(() => validateBatch(model(), batch({ inputIds: Int32Array.of(-1, 2, 3, 4, 5, 0) }))),
    ).toMatch(/token id -1 at position 0 is outside/);
    expect(
      message(() => validateBatch(model(), batch({ attentionMask: Int32Array.of(1, 1, 1, 1, 2, 0) }))),
    ).toBe('invalid batch: attention mask value 2 at position 4 (must be 0 or 1)');
    expect(
      message(() => validateBatch(model(), batch({ tokenTypeIds: Int32Array.of(0, 2, 0, 0, 0, 0) }))),
    ).toBe('invalid batch: token type id 2 at position 1 is outside the type vocabulary (size 2)');
    expect(message(() => validateBatch(model({ tokenTypes: false }), batch()))).toBe(
      'invalid batch: token type id 1 at position 1: the model has no token types',
    );
    // all-zero token types are fine for a model without them
    expect(() =>
      validateBatch(model({ tokenTypes: false }), batch({ tokenTypeIds: new Int32Array(6) })),
    ).not.toThrow();
  });

  it('position ids beyond the position table', () => {
    const long = batch({
      size: 1,
      seqLen: 9,
      inputIds: new Int32Array(9).fill(1),
      attentionMask: new Int32Array(9).fill(1),
      tokenTypeIds: undefined,
    });
    expect(message(() => validateBatch(model(), long))).toBe(
      "invalid batch: sequence length 9 exceeds the model's 8 positions",
    );
    // RoBERTa: pad id 1, positions start at 2, so 6 real tokens need position 7 (fine), 7 need 8
    const roberta = model({ positionIds: { kind: 'padding-offset', padTokenId: 1 }, tokenTypes: false });
    const ids = (real: number) => Int32Array.from({ length: 8 }, (_, t) => (t < real ? 5 : 1));
    const ex = (real: number) =>
      batch({
        size: 1,
        seqLen: 8,
        inputIds: ids(real),
        attentionMask: ids(real).map((v) => (v === 5 ? 1 : 0)),
        tokenTypeIds: undefined,
      });
    expect(() => validateBatch(roberta, ex(6))).not.toThrow();
    expect(message(() => validateBatch(roberta, ex(7)))).toBe(
      'invalid batch: example 0 has 7 tokens: position ids go up to 8, the model has 8 positions',
    );
  });

  it('labels: present, class indices below numLabels, finite targets for regression', () => {
    expect(message(() => validateBatch(model(), batch({ labels: undefined }), { labels: true }))).toBe(
      'invalid batch: the loss needs 2 labels, got none',
    );
    expect(
      message(() => validateBatch(model(), batch({ labels: Float32Array.of(0, 3) }), { labels: true })),
    ).toBe('invalid batch: label 3 is not a class index in 0..2 (example 1)');
    expect(
      message(() => validateBatch(model(), batch({ labels: Float32Array.of(0.5, 1) }), { labels: true })),
    ).toMatch(/label 0.5 is not a class index/);
    expect(
      message(() =>
        validateBatch(model({ numLabels: 1 }), batch({ labels: Float32Array.of(0, NaN) }), { labels: true }),
      ),
    ).toBe('invalid batch: label NaN is not a finite regression target (example 1)');
    expect(message(() => validateBatch(model({ numLabels: null }), batch(), { labels: true }))).toBe(
      'the model has no classification head',
    );
    // labels are not looked at when no loss is computed
    expect(() => validateBatch(model(), batch({ labels: Float32Array.of(7) }))).not.toThrow();
  });
});
