import { registerBackend } from '@fmn/core';
import { createOnnxRuntimeBackend, optionsFromEnv } from './session.js';

export {
  OnnxRuntimeBackend,
  createOnnxRuntimeBackend,
  optionsFromEnv,
  sessionOptions,
  type OnnxRuntimeBackendOptions,
} from './session.js';

registerBackend('onnxruntime', { init: () => createOnnxRuntimeBackend(optionsFromEnv()) }, 15);
