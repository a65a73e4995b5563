import { describe } from 'vitest';
import type { Backend, EncoderModel } from '@fmn/core';
import { runBackendConformance } from '@fmn/testkit';
import { createTfjsBackend, createTrainer, initRuntime, TfjsBackend } from './index.js';

/** Why tfjs-node cannot run here (undefined when it loads). */
const nodeFailure = await initRuntime('node').then(
  () => undefined,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

const trainer = (model: EncoderModel, backend: Backend) => {
  if (!(backend instanceof TfjsBackend)) throw new Error(`not a tfjs backend: ${backend.name}`);
  return createTrainer(model, { lr: 1e-3, totalSteps: 5, weightDecay: 0.01, backend });
};

describe('tfjs-wasm', () => {
  // the suite's small models would get batched attention ('auto'): force the per-head path here
  // (the batched one runs on cpu)
  runBackendConformance({
    createBackend: () => createTfjsBackend('wasm', { attention: 'per-head' }),
    fullFisher: true,
    modelConvention: true,
    gram: true,
    createTrainer: trainer,
  });
});

describe('tfjs-cpu', () => {
  runBackendConformance({
    createBackend: () => createTfjsBackend('cpu'),
    fullFisher: true,
    modelConvention: true,
    gram: true,
    createTrainer: trainer,
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
      createTrainer: trainer,
    });
  },
);
