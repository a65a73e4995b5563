/**
 * Registers the three tfjs runtimes with core's backend registry, without loading TensorFlow.js:
 * each factory imports the backend when it is first started. Imported by the package's index,
 * and on its own as `@fmn/backend-tfjs/register` by callers that want the names registered (e.g.
 * the CLI's option parsing) but tfjs loaded only when it runs.
 */
import { registerBackend } from '@fmn/core';
import type { RuntimeKind } from './runtime.js';

const start = (kind: RuntimeKind) => async () => (await import('./session.js')).createTfjsBackend(kind);

registerBackend('tfjs-node', { init: start('node') }, 30);
registerBackend('tfjs-wasm', { init: start('wasm') }, 20);
registerBackend('tfjs-cpu', { init: start('cpu') }, 10);
