/** @fmn/arch-electra: the ELECTRA adapter, registered on import. */
import { registerAdapter } from '@fmn/core';
import { electraAdapter } from './adapter.js';

registerAdapter(electraAdapter);

export { electraAdapter };
