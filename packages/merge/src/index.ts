export {
  applyZeroRule,
  expandWeight,
  rowsCols,
  tensorWeight,
  universalWeight,
  weightedAverage,
  type AnyWeight,
  type MaskFisherValues,
  type TensorWeight,
  type ZeroRuleCount,
} from './weights.js';
export {
  addScaled,
  checkDropRate,
  checkTopK,
  dareDrop,
  dareRng,
  disjointMean,
  electSigns,
  keepCount,
  MagnitudeSelector,
  SeededRng,
  signSum,
  sumVectors,
  taskVector,
  tiesMerge,
  topKThreshold,
  trimBelow,
  trimTopK,
} from './taskvectors.js';
export {
  merge,
  type MergeMethod,
  type MergeModelInput,
  type MergeOptions,
  type MergeProgress,
} from './merge.js';
export type { InputFileHash, MergeReport } from './report.js';
export { outputNames } from './write.js';
export { listMergeMethods, mergeMethod, mergeMethodNames, registerMergeMethod } from './methods/registry.js';
export { resolveOptions } from './methods/options.js';
export {
  booleanOption,
  mappingOption,
  numberOption,
  type MergeMethodSpec,
  type MergeNeeds,
  type MethodContext,
  type MethodOption,
  type MethodOptions,
  type OptionValue,
  type ShareRule,
  type TensorResult,
  type TensorToMerge,
} from './methods/spec.js';
export { FULL_FISHER_FLOOR } from './methods/fisher.js';
export { WEIGHTED_SHARES } from './methods/weighted.js';
export { SCALE_OPTION, TASK_VECTOR_SHARES, fromBase, taskVectors } from './methods/task-vector.js';
export { TOP_K_OPTION, tiesAnalysis, tiesCombine, type TiesState } from './methods/ties.js';
export {
  bernoulliSparsify,
  l1Norm,
  magnitudeSparsify,
  mergekitKeepCount,
  rescaleL1,
  type SparsifyOptions,
} from './mergekit-sparsify.js';
export { mergekitLinear, mergekitMix, type MergekitMixOptions } from './mergekit-consensus.js';
export {
  MERGEKIT_VARIANTS,
  mergekitTaskArithmetic,
  type MergekitTensorOptions,
  type MergekitVariant,
} from './mergekit-gta.js';
