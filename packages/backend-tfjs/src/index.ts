/**
 * @fmn/backend-tfjs: the fmn compute backend on TensorFlow.js. Importing the package registers
 * three runtimes with core's backend registry: "tfjs-node" (native, when @tensorflow/tfjs-node
 * loads), "tfjs-wasm" (SIMD) and "tfjs-cpu".
 */
import { registerBackend } from '@fmn/core';
import { createTfjsBackend } from './session.js';

registerBackend('tfjs-node', { init: () => createTfjsBackend('node') }, 30);
registerBackend('tfjs-wasm', { init: () => createTfjsBackend('wasm') }, 20);
registerBackend('tfjs-cpu', { init: () => createTfjsBackend('cpu') }, 10);

export {
  createTfjsBackend,
  defaultChunkTokens,
  TfjsBackend,
  TfjsSession,
  type TfjsOptions,
} from './session.js';
export { initRuntime, type Runtime, type RuntimeKind, type ModuleImporter } from './runtime.js';
export { buildLayout, mapModelParams } from './params.js';
export type { AttentionMode } from './forward.js';
export {
  createTrainer,
  linearSchedule,
  type Trainer,
  type TrainerOptions,
  type TrainBatch,
} from './trainer.js';
