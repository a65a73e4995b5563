import { describe } from 'vitest';
import { runBackendConformance } from '@fmn/testkit';
import { createTfjsBackend, initRuntime } from './index.js';

/** Why tfjs-node cannot run here (undefined when it loads). */
const nodeFailure = await initRuntime('node').then(
  () => undefined,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

describe('tfjs-wasm', () => {
  // the suite's small models would get batched attention ('auto'): force the per-head path here
  // (the batched one runs on cpu)
  runBackendConformance({
    createBackend: () => createTfjsBackend('wasm', { attention: 'per-head' }),
    fullFisher: true,
    modelConvention: true,
    gram: true,
    training: true,
  });
});

describe('tfjs-cpu', () => {
  runBackendConformance({
    createBackend: () => createTfjsBackend('cpu'),
    fullFisher: true,
    modelConvention: true,
    gram: true,
    training: true,
  });
});

describe.skipIf(nodeFailure !== undefined)(
  `tfjs-node${nodeFailure === undefined ? '' : ` (skipped: ${nodeFailure})`}`,
  () => {
    runBackendConformance({
      createBackend: () => createTfjsBackend('node'),
      fullFisher: true,
      modelConvention: true,
      gram: true,
      training: true,
    });
  },
);
