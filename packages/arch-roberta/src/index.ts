import { registerAdapter } from '@fmn/core';
import { robertaAdapter } from './adapter.js';

registerAdapter(robertaAdapter);

export { robertaAdapter };
