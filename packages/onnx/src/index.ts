/**
 * @fmn/onnx: ONNX graphs of fmn encoders, built and serialised without any ONNX runtime.
 */
export {
  exportOnnx,
  MAX_INLINE_WEIGHT_BYTES,
  type ExportOptions,
  type ExportResult,
  type NamedHead,
} from './export.js';
export {
  logitsGraph,
  lossGraph,
  maskGradientGraph,
  squaredGradientGraph,
  classificationHead,
  CLASS_PROBS,
  CLASS_WEIGHTS,
  HEAD_MASK,
  NEURON_MASK,
  HEAD_GRAD,
  NEURON_GRAD,
} from './encoder-graph.js';
export type { Objective } from './encoder-graph.js';
export {
  trainingGraph,
  paramGradName,
  MLM_LABELS,
  MLM_POSITIONS,
  TRAIN_LOSS,
  type TrainingGraph,
} from './training-graph.js';
export { gramGraph } from './gram-graph.js';
export { externalDataOf, type InMemoryExternalData } from './external-data.js';
export { OPSET, type Graph, type Value, type Dim, type DType } from './graph.js';
export {
  perExampleSquaredGradientGraph,
  accumulateEmbeddingSquares,
  type PerExampleGraph,
  type PerExampleOutput,
} from './per-example-squared-gradient.js';
