import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ArchitectureAdapter } from './adapter.js';
import type { HfConfig } from './checkpoint.js';
import { isFmnError } from './errors.js';

// The registry is module state: every test gets a fresh module.
let mod: typeof import('./adapter.js');
beforeEach(async () => {
  vi.resetModules();
  mod = await import('./adapter.js');
});

function fakeAdapter(modelType: string, detect: (c: HfConfig) => boolean = () => false): ArchitectureAdapter {
  const no = () => {
    throw new Error('unused');
  };
  return {
    modelType,
    detect,
    maskLayout: no,
    load: no,
    toTensors: no,
    role: () => ({ taskHead: true }),
    isTaskHead: () => true,
  };
}

describe('adapter registry', () => {
  it('finds an adapter by model_type', () => {
    const bert = fakeAdapter('bert');
    mod.registerAdapter(bert);
    mod.registerAdapter(fakeAdapter('roberta'));
    expect(mod.adapterFor({ model_type: 'bert' })).toBe(bert);
    expect(mod.getAdapter('roberta')?.modelType).toBe('roberta');
    expect(mod.listAdapters().map((a) => a.modelType)).toEqual(['bert', 'roberta']);
  });

  it('falls back to detect() when model_type is missing or unknown', () => {
    const distil = fakeAdapter('distilbert', (c) => 'n_heads' in c);
    mod.registerAdapter(fakeAdapter('bert'));
    mod.registerAdapter(distil);
    expect(mod.adapterFor({ n_heads: 12 })).toBe(distil);
    expect(mod.adapterFor({ model_type: 'distilbert-custom', n_heads: 12 })).toBe(distil);
  });

  it('an unsupported model_type is a clear error listing the supported ones and naming the file', () => {
    mod.registerAdapter(fakeAdapter('roberta'));
    mod.registerAdapter(fakeAdapter('bert'));
    mod.registerAdapter(fakeAdapter('electra'));
    let err: unknown;
    try {
      mod.adapterFor({ model_type: 'gpt2' }, '/models/x/config.json');
    } catch (e) {
      err = e;
    }
    expect(isFmnError(err)).toBe(true);
    expect((err as Error).message).toBe(
      '/models/x/config.json: unsupported model_type "gpt2" (supported: bert, electra, roberta)',
    );
    expect(() => mod.adapterFor({})).toThrow(
      'unsupported model_type undefined (supported: bert, electra, roberta)',
    );
  });

  it('a model_type is registered once: a second registration is a clear error', () => {
    const first = fakeAdapter('bert');
    mod.registerAdapter(first);
    expect(() => mod.registerAdapter(fakeAdapter('bert'))).toThrow(
      'an adapter for model_type "bert" is already registered (is its package loaded twice, or do two adapters claim it?)',
    );
    expect(mod.getAdapter('bert')).toBe(first);
  });

  it('with no adapters registered, says so', () => {
    expect(() => mod.adapterFor({ model_type: 'bert' })).toThrow(/supported: none registered/);
  });
});
