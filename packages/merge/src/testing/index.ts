/** @fmn/merge/testing: example methods for tests and the docs (not registered by the package). */
export { median } from './median.js';
