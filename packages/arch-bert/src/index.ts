import { registerAdapter } from '@fmn/core';
import { bertAdapter } from './adapter.js';

registerAdapter(bertAdapter);

export { bertAdapter };
export * from './bert-like.js';
export * from './kit.js';
