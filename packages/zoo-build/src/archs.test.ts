import { describe, expect, it } from 'vitest';
import type { ArchitectureAdapter } from '@fmn/core';
import { archsWithoutRecipe, buildableArchs } from './archs.js';

/** Only modelType matters to the selection; the rest of the adapter is never called. */
const fake = (modelType: string) => ({ modelType }) as unknown as ArchitectureAdapter;

describe('buildableArchs', () => {
  it('keeps the registered adapters the zoo has a model recipe for, in registration order', () => {
    const adapters = [fake('electra'), fake('gpt2'), fake('bert'), fake('deberta-v2')];
    expect(buildableArchs(adapters)).toEqual(['electra', 'bert']);
    expect(archsWithoutRecipe(adapters)).toEqual(['gpt2', 'deberta-v2']);
  });

  it('is empty when no adapter is registered', () => {
    expect(buildableArchs([])).toEqual([]);
  });
});
