export * from './weights.js';
export * from './taskvectors.js';
export * from './merge.js';
