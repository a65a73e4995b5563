/**
 * Registers "onnxruntime" with core's backend registry without loading onnxruntime-node: the
 * factory imports the backend when it is first started. Imported by the package's index, and on
 * its own as `@fmn/backend-onnxruntime/register` (e.g. by the CLI, for its option parsing).
 */
import { registerBackend } from '@fmn/core';

registerBackend(
  'onnxruntime',
  {
    init: async () => {
      const { createOnnxRuntimeBackend, optionsFromEnv } = await import('./session.js');
      return createOnnxRuntimeBackend(optionsFromEnv());
    },
  },
  15,
);
