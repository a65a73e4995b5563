/** @fmn/arch-distilbert: the DistilBERT adapter, registered on import. */
import { registerAdapter } from '@fmn/core';
import { distilbertAdapter } from './adapter.js';

registerAdapter(distilbertAdapter);

export { distilbertAdapter };
