import { describe, expect, it } from 'vitest';
import type { MaskValues } from './backend.js';
import { isFmnError } from './errors.js';
import { checkConvention, fullFisherConventionOf, maskConventionOf, masksFor } from './validate-masks.js';

// L = 2 layers, H = 3 heads, I = 4 neurons: shared masks [6] / [8]
const layout = { layers: 2, heads: 3, headSize: 5, intermediate: 4 };
const masks = (h: number, n: number): MaskValues => ({
  head: new Float32Array(h).fill(1),
  neuron: new Float32Array(n).fill(1),
});

function message(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(isFmnError(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an FmnError');
}

describe('checkConvention', () => {
  it('accepts batch, example and model, names anything else', () => {
    expect(() => checkConvention('batch')).not.toThrow();
    expect(() => checkConvention('example')).not.toThrow();
    expect(() => checkConvention('model')).not.toThrow();
    expect(message(() => checkConvention('token'))).toBe(
      'unknown Fisher convention "token" (batch, example or model)',
    );
    expect(message(() => checkConvention(undefined))).toBe(
      'unknown Fisher convention undefined (batch, example or model)',
    );
  });
});

describe('fullFisherConventionOf', () => {
  it('defaults to example, accepts model, names anything else', () => {
    expect(fullFisherConventionOf()).toBe('example');
    expect(fullFisherConventionOf({})).toBe('example');
    expect(fullFisherConventionOf({ convention: 'model' })).toBe('model');
    expect(message(() => fullFisherConventionOf({ convention: 'batch' }))).toBe(
      'unknown full Fisher convention "batch" (example or model)',
    );
  });
});

describe('masksFor', () => {
  it('ones of the right size when no masks are given', () => {
    const shared = masksFor(layout, 4, 'batch');
    expect([shared.head.length, shared.neuron.length]).toEqual([6, 8]);
    const each = masksFor(layout, 4, 'example');
    expect([each.head.length, each.neuron.length]).toEqual([24, 32]);
    expect([...each.head, ...each.neuron].every((v) => v === 1)).toBe(true);
    // the model convention differentiates per-example copies too
    const own = masksFor(layout, 4, 'model');
    expect([own.head.length, own.neuron.length]).toEqual([24, 32]);
  });

  it('returns masks of the right size as they are', () => {
    const m = masks(24, 32);
    expect(masksFor(layout, 4, 'example', m)).toBe(m);
  });

  it('wrong sizes name the convention and the sizes it needs', () => {
    expect(message(() => masksFor(layout, 4, 'batch', masks(24, 32)))).toBe(
      'invalid masks: the batch convention needs head [6] and neuron [8] values, got 24 and 32',
    );
    expect(message(() => masksFor(layout, 4, 'example', masks(6, 8)))).toBe(
      'invalid masks: the example convention needs head [24] and neuron [32] values, got 6 and 8',
    );
    expect(message(() => masksFor(layout, 4, 'example', masks(24, 8)))).toMatch(/got 24 and 8/);
  });

  it('wrong dtypes and non-finite values', () => {
    const asArray = { head: [1, 1, 1, 1, 1, 1], neuron: new Float32Array(8) } as unknown as MaskValues;
    expect(message(() => masksFor(layout, 1, 'batch', asArray))).toBe(
      'invalid masks: head must be a Float32Array, got Array',
    );
    const nan = masks(6, 8);
    nan.neuron[5] = NaN;
    expect(message(() => masksFor(layout, 1, 'batch', nan))).toBe(
      'invalid masks: neuron value NaN at index 5',
    );
    const inf = masks(6, 8);
    inf.head[0] = Infinity;
    expect(message(() => maskConventionOf(layout, inf, 1))).toBe(
      'invalid masks: head value Infinity at index 0',
    );
  });

  it('an unknown convention is refused', () => {
    expect(message(() => masksFor(layout, 1, 'tokens' as 'batch'))).toMatch(
      /unknown Fisher convention "tokens"/,
    );
  });
});

describe('maskConventionOf', () => {
  it('recognises shared and per-example masks by their size', () => {
    expect(maskConventionOf(layout, masks(6, 8), 4)).toBe('batch');
    expect(maskConventionOf(layout, masks(24, 32), 4)).toBe('example');
    // for a batch of one the two are the same size: shared
    expect(maskConventionOf(layout, masks(6, 8), 1)).toBe('batch');
  });

  it('sizes that fit neither are an error giving both', () => {
    expect(message(() => maskConventionOf(layout, masks(6, 32), 4))).toBe(
      'invalid masks: head/neuron sizes 6/32 fit neither shared masks [6]/[8] nor per-example masks [24]/[32]',
    );
  });
});
