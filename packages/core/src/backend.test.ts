import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendFactory } from './backend.js';
import { isFmnError } from './errors.js';

// The registry is module state: every test gets a fresh module.
let mod: typeof import('./backend.js');
beforeEach(async () => {
  vi.resetModules();
  mod = await import('./backend.js');
});

function fakeBackend(name: string, contractVersion = 1): Backend {
  return {
    name,
    runtime: `fake ${name}`,
    contractVersion,
    capabilities: { conventions: ['batch', 'example'], fullFisher: false, training: false },
    load: () => Promise.reject(new Error('not used')),
  };
}

/** A factory that records its init calls and either starts or fails with `fail`. */
function factory(name: string, log: string[], fail?: string): BackendFactory {
  return {
    init: () => {
      log.push(name);
      return fail === undefined ? Promise.resolve(fakeBackend(name)) : Promise.reject(new Error(fail));
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('resolveBackend', () => {
  it('without a preference tries every backend by priority, skipping failing ones and saying why', async () => {
    const log: string[] = [];
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', log), 10);
    mod.registerBackend('tfjs-node', factory('tfjs-node', log, 'native binding not found'), 100);
    mod.registerBackend('onnxruntime', factory('onnxruntime', log, 'no onnxruntime-node'), 50);
    const { backend, failures } = await mod.resolveBackend();
    expect(log).toEqual(['tfjs-node', 'onnxruntime', 'tfjs-cpu']);
    expect(backend.name).toBe('tfjs-cpu');
    expect(failures).toEqual([
      { name: 'tfjs-node', reason: 'native binding not found' },
      { name: 'onnxruntime', reason: 'no onnxruntime-node' },
    ]);
    expect(mod.listBackends()).toEqual([
      { name: 'tfjs-node', priority: 100 },
      { name: 'onnxruntime', priority: 50 },
      { name: 'tfjs-cpu', priority: 10 },
    ]);
  });

  it('"tfjs" matches the tfjs family ("tfjs-wasm", "tfjs-cpu") but not "tfjsx" or other families', async () => {
    const log: string[] = [];
    mod.registerBackend('onnxruntime', factory('onnxruntime', log), 1000);
    mod.registerBackend('tfjsx', factory('tfjsx', log), 900);
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', log), 10);
    mod.registerBackend('tfjs-wasm', factory('tfjs-wasm', log, 'wasm files missing'), 20);
    const { backend, failures } = await mod.resolveBackend('tfjs');
    expect(log).toEqual(['tfjs-wasm', 'tfjs-cpu']);
    expect(backend.name).toBe('tfjs-cpu');
    expect(failures).toEqual([{ name: 'tfjs-wasm', reason: 'wasm files missing' }]);
    // an exact variant name selects just that one
    expect((await mod.resolveBackend('tfjs-cpu')).backend.name).toBe('tfjs-cpu');
  });

  it('several preferences are tried in the order given', async () => {
    const log: string[] = [];
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', log, 'broken'), 100);
    mod.registerBackend('onnxruntime', factory('onnxruntime', log), 1);
    const { backend, failures } = await mod.resolveBackend(['tfjs', 'onnxruntime']);
    expect(log).toEqual(['tfjs-cpu', 'onnxruntime']);
    expect(backend.name).toBe('onnxruntime');
    expect(failures.map((f) => f.name)).toEqual(['tfjs-cpu']);
  });

  it('an unknown name is a clear error listing the registered backends', async () => {
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', []), 10);
    mod.registerBackend('onnxruntime', factory('onnxruntime', []), 50);
    const err = await rejection(mod.resolveBackend('cuda'));
    expect(isFmnError(err)).toBe(true);
    expect(err.message).toBe('unknown backend "cuda" (registered: onnxruntime, tfjs-cpu)');
    // also when it is one of several preferences
    expect((await rejection(mod.resolveBackend(['tfjs', 'webgpu']))).message).toMatch(
      /unknown backend "webgpu"/,
    );
  });

  it('with nothing registered, says so', async () => {
    expect((await rejection(mod.resolveBackend('tfjs'))).message).toMatch(/registered: none registered/);
    expect((await rejection(mod.resolveBackend())).message).toMatch(/no backend is registered/);
  });

  it('when every candidate fails, the error gives each reason (sync throws included)', async () => {
    mod.registerBackend('a', factory('a', [], 'reason A'), 2);
    mod.registerBackend(
      'b',
      {
        init: () => {
          throw new Error('reason B');
        },
      },
      1,
    );
    const err = await rejection(mod.resolveBackend());
    expect(isFmnError(err)).toBe(true);
    expect(err.message).toBe('no backend could start: a: reason A; b: reason B');
  });

  it('a started backend is reused; a failed one is retried next time', async () => {
    const log: string[] = [];
    let fail = true;
    mod.registerBackend(
      'flaky',
      {
        init: () => (
          log.push('flaky'),
          fail ? Promise.reject(new Error('x')) : Promise.resolve(fakeBackend('flaky'))
        ),
      },
      1,
    );
    await rejection(mod.resolveBackend('flaky'));
    fail = false;
    const first = (await mod.resolveBackend('flaky')).backend;
    const second = (await mod.resolveBackend('flaky')).backend;
    expect(second).toBe(first);
    expect(log).toEqual(['flaky', 'flaky']);
  });
});

describe('registerBackend', () => {
  it('a name is registered once: a second registration is a clear error', () => {
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', []), 10);
    let err: unknown;
    try {
      mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', []), 20);
    } catch (e) {
      err = e;
    }
    expect(isFmnError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'backend "tfjs-cpu" is already registered (is its package loaded twice, or do two packages use one name?)',
    );
    // the first registration stands
    expect(mod.listBackends()).toEqual([{ name: 'tfjs-cpu', priority: 10 }]);
  });

  it('refuses names that option parsing and family matching could not handle, and non-finite priorities', () => {
    for (const name of ['', 'TFJS', 'tfjs cpu', '-cpu', 'tfjs-', 'tfjs--cpu'])
      expect(() => mod.registerBackend(name, factory(name, []), 1), name).toThrow(/invalid backend name/);
    expect(() => mod.registerBackend('x', factory('x', []), NaN)).toThrow(
      'backend "x": priority must be a finite number, got NaN',
    );
    expect(mod.listBackends()).toEqual([]);
  });
});

describe('backendChoices', () => {
  it('every family, then its variants, in priority order', () => {
    mod.registerBackend('tfjs-cpu', factory('tfjs-cpu', []), 10);
    mod.registerBackend('onnxruntime', factory('onnxruntime', []), 15);
    mod.registerBackend('tfjs-node', factory('tfjs-node', []), 30);
    mod.registerBackend('tfjs-wasm', factory('tfjs-wasm', []), 20);
    mod.registerBackend('ref-f64', factory('ref-f64', []), 1);
    expect(mod.backendChoices()).toEqual([
      'tfjs',
      'tfjs-node',
      'tfjs-wasm',
      'tfjs-cpu',
      'onnxruntime',
      'ref',
      'ref-f64',
    ]);
  });

  it('is empty with nothing registered', () => {
    expect(mod.backendChoices()).toEqual([]);
  });
});

describe('contract version', () => {
  it('a backend written against another contract version does not start, saying so', async () => {
    mod.registerBackend('old', { init: () => Promise.resolve(fakeBackend('old', 0)) }, 2);
    mod.registerBackend('new', { init: () => Promise.resolve(fakeBackend('new')) }, 1);
    const { backend, failures } = await mod.resolveBackend();
    expect(backend.name).toBe('new');
    expect(failures).toEqual([
      { name: 'old', reason: 'backend old implements contract version 0, this @fmn/core has version 1' },
    ]);
    expect(mod.BACKEND_CONTRACT_VERSION).toBe(1);
  });
});

describe('onesMasks', () => {
  it('shared and per-example sizes', () => {
    const layout = { layers: 2, heads: 3, headSize: 4, intermediate: 5 };
    const shared = mod.onesMasks(layout);
    expect(shared.head.length).toBe(6);
    expect(shared.neuron.length).toBe(10);
    expect(shared.head.every((v) => v === 1) && shared.neuron.every((v) => v === 1)).toBe(true);
    const per = mod.onesMasks(layout, 4);
    expect(per.head.length).toBe(24);
    expect(per.neuron.length).toBe(40);
  });
});
