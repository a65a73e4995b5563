// The public API of @fmn/core: an explicit list, grouped by the file that defines it (one block per
// file, so additions merge cleanly). Helpers that only core itself uses stay unexported.

// errors.ts
export { FmnError, isFmnError, withPath } from './errors.js';

// tensor.ts
export {
  DTYPE_SIZE,
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  formatShape,
  fromFloat32,
  numel,
  shapeEquals,
  toFloat32,
  type DType,
  type FloatTensor,
  type RawTensor,
} from './tensor.js';

// finite.ts
export { firstNonFinite } from './finite.js';

// safetensors.ts
export {
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  SafetensorsFile,
  writeSafetensors,
  type TensorInfo,
  type TensorToWrite,
} from './safetensors.js';

// rows.ts
export { checkRowRange, rowChunks, rowCount, rowSize, rowsShape, type RowRange } from './rows.js';

// atomic.ts
export {
  atomicDir,
  atomicFile,
  atomicFiles,
  registerLiveTemp,
  removeLiveTempsSync,
  writeFileAtomic,
} from './atomic.js';

// temp-name.ts
export {
  fmnTempPath,
  outputOfTempPath,
  parseFmnTempName,
  type FmnTempKind,
  type ParsedTempName,
} from './temp-name.js';

// path-exists.ts
export { pathExists } from './path-exists.js';
// recover-output.ts
export { processAlive, recoverOutput, type Recovery } from './recover-output.js';

// regular-file.ts
export { MAX_SMALL_FILE_BYTES, regularFileSize } from './regular-file.js';

// output-guard.ts
export { checkOutputPath, isModelFileName, type GuardedInput } from './output-guard.js';

// checkpoint.ts
export {
  Checkpoint,
  readJsonFile,
  tokenizerFileNames,
  type CheckpointTensorInfo,
  type HfConfig,
  type WeightsFile,
} from './checkpoint.js';

// config-labels.ts
export { MAX_NUM_LABELS, configNumLabels, describeConfigValue } from './config-labels.js';

// encoder.ts
export {
  ACTIVATIONS,
  encoderParams,
  maskLayoutOf,
  type Activation,
  type ClassificationHead,
  type Embeddings,
  type EncoderDims,
  type EncoderLayer,
  type EncoderModel,
  type HeadStep,
  type LayerNorm,
  type Linear,
  type MaskLayout,
  type MaskedLmHead,
  type Param,
  type PositionIds,
  type TaskHead,
} from './encoder.js';

// adapter.ts
export {
  adapterFor,
  basePrefixOf,
  getAdapter,
  listAdapters,
  listModelTypes,
  registerAdapter,
  requireAdapter,
  type ArchitectureAdapter,
  type LoadOptions,
  type MaskMapping,
  type SpecialTokenStrings,
  type TensorRole,
  type TokenizerConventions,
  type Weighting,
} from './adapter.js';

// fixture-spec.ts
export type {
  ArchitectureFixture,
  FixtureDims,
  FixtureInit,
  FixtureLayerSlot,
  FixtureModelKind,
  FixtureTensor,
  TensorPart,
} from './fixture-spec.js';

// backend.ts
export {
  BACKEND_CONTRACT_VERSION,
  backendChoices,
  listBackends,
  onesMasks,
  registerBackend,
  resolveBackend,
  type Backend,
  type BackendCapabilities,
  type BackendFactory,
  type Batch,
  type FisherConvention,
  type FullFisherConvention,
  type MaskGradients,
  type MaskValues,
  type ModelSession,
  type ResolvedBackend,
} from './backend.js';

// map-model-params.ts
export { mapModelParams } from './map-model-params.js';

// training.ts
export {
  IGNORE_INDEX,
  adamwStep,
  adamwUpdate,
  checkTrainerOptions,
  decays,
  linearSchedule,
  validateTrainBatch,
  type AdamWStep,
  type TrainBatch,
  type Trainer,
  type TrainerOptions,
} from './training.js';

// validate-batch.ts
export { validateBatch, type BatchRequirements } from './validate-batch.js';

// validate-masks.ts
export {
  FISHER_CONVENTIONS,
  FULL_FISHER_CONVENTIONS,
  checkConvention,
  fullFisherConventionOf,
  maskConventionOf,
  masksFor,
} from './validate-masks.js';

// fisher.ts
export {
  computeFullFisher,
  computeMaskFisher,
  type BatchSource,
  type FisherProgress,
  type MaskFisher,
} from './fisher.js';

// gram.ts
export { computeGrams, gramTargets, type GramTarget, type Grams } from './gram.js';

// formats/: the mask-Fisher, full-Fisher and Gram file formats, and the model record they carry
export {
  MASK_FISHER_FORMAT,
  combineMaskFishers,
  readMaskFisher,
  writeMaskFisher,
} from './formats/mask-fisher.js';
export {
  FULL_FISHER_FORMAT,
  FullFisherFile,
  combineFullFishers,
  writeFullFisher,
  type FullFisherTensor,
} from './formats/full-fisher.js';
export {
  GRAM_FORMAT,
  GramFile,
  combineGrams,
  readGramFile,
  writeGram,
  writeGramFile,
  type GramTensor,
} from './formats/gram.js';
export {
  hashWeightFiles,
  modelContentHash,
  modelRecordMetadata,
  readModelRecord,
  recordMismatch,
  sha256OfFile,
  weightsDigest,
  type FileHash,
  type ModelIdentity,
  type ModelRecord,
} from './formats/model-record.js';
export { checkFiniteNonNegative } from './formats/validate.js';

// torch/torch-file.ts
export { TorchFile, type TorchTensorInfo } from './torch/torch-file.js';

// convert.ts
export { convertToSafetensors, type ConvertResult } from './convert.js';

// hub-cache.ts
export { modelFolderName, parseRepoId, resolveModelDir, type RepoRef } from './hub-cache.js';
