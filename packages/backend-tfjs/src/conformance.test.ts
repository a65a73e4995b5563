import { describe, it } from 'vitest';
import { runBackendConformance } from '@fmn/testkit';
import { createTfjsBackend, initRuntime } from './index.js';

/** Why tfjs-node cannot run here (undefined when it loads). */
const nodeFailure = await initRuntime('node').then(
  () => undefined,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

describe('tfjs-wasm', () => {
  runBackendConformance({ createBackend: () => createTfjsBackend('wasm'), fullFisher: true });
});

describe('tfjs-cpu', () => {
  runBackendConformance({ createBackend: () => createTfjsBackend('cpu'), fullFisher: true });
});

describe.skipIf(nodeFailure !== undefined)('tfjs-node', () => {
  runBackendConformance({ createBackend: () => createTfjsBackend('node'), fullFisher: true });
});

if (nodeFailure !== undefined) {
  describe('tfjs-node', () => {
    it.skip(`skipped: ${nodeFailure}`, () => {});
  });
}
