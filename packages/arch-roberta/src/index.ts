/** @fmn/arch-roberta: the RoBERTa adapter, registered on import. */
import { registerAdapter } from '@fmn/core';
import { robertaAdapter } from './adapter.js';

registerAdapter(robertaAdapter);

export { robertaAdapter };
export { BPE_SPECIAL_TOKENS, ROBERTA_TOKENIZER } from './tokenizer.js';
