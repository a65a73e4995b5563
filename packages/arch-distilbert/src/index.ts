import { registerAdapter } from '@fmn/core';
import { distilbertAdapter } from './adapter.js';

registerAdapter(distilbertAdapter);

export { distilbertAdapter };
