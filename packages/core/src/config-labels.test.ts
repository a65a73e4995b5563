import { describe, expect, it } from 'vitest';
import { configNumLabels, describeConfigValue } from './config-labels.js';
import { FmnError } from './errors.js';

function error(config: Record<string, unknown>): FmnError {
  try {
    configNumLabels(config, '/m/config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(FmnError);
    expect((e as FmnError).file).toBe('/m/config.json');
    return e as FmnError;
  }
  throw new Error('expected an error');
}

describe('configNumLabels', () => {
  it('follows HuggingFace: len(id2label), else num_labels, else 2', () => {
    expect(configNumLabels({ num_labels: 3 })).toBe(3);
    expect(configNumLabels({ id2label: { 0: 'neg', 1: 'neu', 2: 'pos' } })).toBe(3);
    expect(configNumLabels({ id2label: { 0: 'LABEL_0' } })).toBe(1);
    expect(configNumLabels({ num_labels: 2, id2label: { 1: 'b', 0: 'a' } })).toBe(2);
    expect(configNumLabels({})).toBe(2);
  });

  it('id2label keys that are not 0..n-1 are an error', () => {
    expect(error({ id2label: { 0: 'a', 2: 'c' } }).message).toContain(
      'must have the keys "0".."1", found "2"',
    );
    expect(error({ id2label: { '00': 'a', 1: 'b' } }).message).toContain('found "00"');
    expect(error({ id2label: { neg: 0 } }).message).toContain('found "neg"');
    expect(error({ id2label: {} }).message).toContain('has 0 labels');
    expect(error({ id2label: ['a', 'b'] }).message).toContain('must be an object');
  });

  it('num_labels disagreeing with id2label, or out of range, is an error', () => {
    expect(error({ num_labels: 2, id2label: { 0: 'a', 1: 'b', 2: 'c' } }).message).toContain(
      '"num_labels" 2 but "id2label" has 3 labels',
    );
    expect(error({ num_labels: 0 }).message).toContain('integer 1..100000, got 0');
    expect(error({ num_labels: 1e7 }).message).toContain('got 10000000');
    expect(error({ num_labels: 2.5 }).message).toContain('got 2.5');
    expect(error({ num_labels: JSON.parse('-1e400') as number }).message).toContain('got -Infinity');
  });

  it('describeConfigValue shows infinities as such, not as JSON null', () => {
    expect(describeConfigValue(JSON.parse('-1e400'))).toBe('-Infinity');
    expect(describeConfigValue(null)).toBe('null');
    expect(describeConfigValue('x')).toBe('"x"');
    expect(describeConfigValue([1])).toBe('[1]');
  });
});
