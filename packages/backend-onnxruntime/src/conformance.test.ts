import { runBackendConformance } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from './session.js';

runBackendConformance({
  createBackend: () => createOnnxRuntimeBackend({ intraOpNumThreads: 1 }),
  fullFisher: true,
  modelConvention: true,
  gram: true,
  training: true,
});
