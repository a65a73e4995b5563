/** @fmn/arch-distilbert/testing: DistilBERT's fixture spec (test only). */
export { distilbertFixture } from './distilbert.js';
