export * from './rng.js';
export * from './encoders.js';
export * from './batches.js';
export * from './reference.js';
export * from './conformance.js';
export * from './reference-backend.js';
export * from './fixtures/index.js';
