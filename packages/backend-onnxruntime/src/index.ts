import './register.js';

export {
  OnnxRuntimeBackend,
  createOnnxRuntimeBackend,
  optionsFromEnv,
  sessionOptions,
  type OnnxRuntimeBackendOptions,
} from './session.js';
