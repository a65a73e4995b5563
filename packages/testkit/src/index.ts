/**
 * @fmn/testkit: the backend conformance suite, a float64 reference implementation, and seeded
 * fixtures (random encoders, tiny HuggingFace checkpoints written from the registered adapters'
 * fixture specs, and the adapter conformance suite).
 */
export { Rng } from './rng.js';
export { FLAVOURS, randomEncoder, type Flavour, type RandomEncoderOptions } from './encoders.js';
export { padBatch, randomBatch, sliceBatch, type RandomBatchOptions } from './batches.js';
export {
  F32_MIN,
  activate,
  erf,
  referenceExampleLosses,
  referenceHidden,
  referenceLogits,
  referenceLoss,
  referenceMaskGradients,
  referenceParamGradient,
  type LinearInputTap,
} from './reference.js';
export {
  maskedLmBatch,
  referenceMaskedLmLoss,
  referenceTrainGradient,
  referenceTrainLoss,
  withMaskedLmHead,
  type TokenLabelledBatch,
} from './masked-lm.js';
export { referenceGrams, referenceModelMaskFisher, referenceModelParamFisher } from './reference-fisher.js';
export { expectClose, runBackendConformance, type ConformanceOptions } from './conformance.js';
export { ReferenceBackend, registerReferenceBackend } from './reference-backend.js';
export {
  BPE_SPECIALS,
  FAMILY_TASKS,
  FIXTURE_ARCHS,
  FIXTURE_TRANSFORMERS_VERSION,
  WORDPIECE_SPECIALS,
  bpeFiles,
  bpeVocab,
  bytesToUnicode,
  describeAdapterConformance,
  editFixture,
  expectedLayerRole,
  expectedRole,
  fixtureArchs,
  fixtureDims,
  fixtureFor,
  wordPieceFiles,
  wordPieceVocab,
  writeCheckpoint,
  writeFamily,
  type CheckpointFixtureOptions,
  type FamilyOptions,
  type FixtureArch,
  type FixtureCheckpoint,
  type FixtureFamily,
  type FixtureLayerSlot,
  type TensorPart,
} from './fixtures/index.js';
