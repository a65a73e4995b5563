/**
 * @fmn/backend-tfjs: the fmn compute backend on TensorFlow.js. Importing the package registers
 * three runtimes with core's backend registry: "tfjs-node" (native, when @tensorflow/tfjs-node
 * loads), "tfjs-wasm" (SIMD) and "tfjs-cpu" (register.ts). The public API is the explicit list
 * below, by file; the forward pass and parameter layout stay internal.
 */
import './register.js';

export {
  createTfjsBackend,
  defaultChunkTokens,
  TfjsBackend,
  TfjsSession,
  type TfjsOptions,
} from './session.js';
export { initRuntime, type Runtime, type RuntimeKind, type ModuleImporter } from './runtime.js';
export type { AttentionMode } from './forward.js';
export { createTrainer, type TrainerOptions } from './trainer.js';
// the training contract lives in core since backends other than tfjs train; re-exported for
// callers written against this package
export { linearSchedule, type Trainer, type TrainBatch } from '@fmn/core';
