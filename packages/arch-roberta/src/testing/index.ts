/** @fmn/arch-roberta/testing: RoBERTa's fixture spec (test only). */
export { robertaFixture } from './roberta.js';
