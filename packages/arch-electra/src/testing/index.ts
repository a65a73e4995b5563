/** @fmn/arch-electra/testing: ELECTRA's fixture spec (test only). */
export { electraFixture } from './electra.js';
