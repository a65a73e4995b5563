import { describe, expect, it } from 'vitest';
import { getAdapter } from '@fmn/core';
import { describeAdapterConformance } from '@fmn/testkit';
import { bertAdapter } from './index.js';

describeAdapterConformance(bertAdapter, 'bert');

describe('bert adapter', () => {
  it('registers itself on import', () => {
    expect(getAdapter('bert')).toBe(bertAdapter);
  });
});
