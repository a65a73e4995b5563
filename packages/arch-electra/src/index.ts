import { registerAdapter } from '@fmn/core';
import { electraAdapter } from './adapter.js';

registerAdapter(electraAdapter);

export { electraAdapter };
