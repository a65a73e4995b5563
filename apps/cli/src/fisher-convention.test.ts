import { describe, expect, it } from 'vitest';
import { BACKEND_CONTRACT_VERSION, type Backend, type BackendCapabilities } from '@fmn/core';
import { checkFisherSupport, fileConvention } from './fisher-convention.js';

const backend = (capabilities: BackendCapabilities): Backend => ({
  name: 'fake',
  runtime: 'fake',
  contractVersion: BACKEND_CONTRACT_VERSION,
  capabilities,
  load: () => Promise.reject(new Error('unused')),
});

describe('fileConvention', () => {
  it('the full Fisher records example unless model was asked for', () => {
    expect(fileConvention({ full: false, convention: 'batch' })).toBe('batch');
    expect(fileConvention({ full: true, convention: 'batch' })).toBe('example');
    expect(fileConvention({ full: true, convention: 'example' })).toBe('example');
    expect(fileConvention({ full: true, convention: 'model' })).toBe('model');
    expect(fileConvention({ full: false, convention: 'model' })).toBe('model');
  });
});

describe('checkFisherSupport', () => {
  const old = backend({ conventions: ['batch', 'example'], fullFisher: true, training: false });
  const none = backend({ conventions: ['batch'], fullFisher: false, training: false });
  const all = backend({
    conventions: ['batch', 'example', 'model'],
    fullFisher: true,
    fullFisherConventions: ['example', 'model'],
    training: false,
  });

  it('accepts what the backend declares (a full Fisher without conventions means example)', () => {
    expect(() => checkFisherSupport(old, { full: false, convention: 'example' })).not.toThrow();
    expect(() => checkFisherSupport(old, { full: true, convention: 'batch' })).not.toThrow();
    expect(() => checkFisherSupport(all, { full: true, convention: 'model' })).not.toThrow();
    expect(() => checkFisherSupport(all, { full: false, convention: 'model' })).not.toThrow();
  });

  it('refuses the rest, naming the backend and what it lacks', () => {
    expect(() => checkFisherSupport(old, { full: false, convention: 'model' })).toThrow(
      'backend fake does not compute the mask Fisher in the model convention',
    );
    expect(() => checkFisherSupport(old, { full: true, convention: 'model' })).toThrow(
      'backend fake does not compute the full Fisher in the model convention',
    );
    expect(() => checkFisherSupport(none, { full: true, convention: 'batch' })).toThrow(
      'backend fake does not compute the full Fisher',
    );
  });
});
