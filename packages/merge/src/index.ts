export * from './weights.js';
export * from './taskvectors.js';
export * from './merge.js';
export * from './mergekit-sparsify.js';
export * from './mergekit-consensus.js';
export * from './mergekit-gta.js';
