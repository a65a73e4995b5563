import './register.js';

export {
  OnnxRuntimeBackend,
  createOnnxRuntimeBackend,
  optionsFromEnv,
  sessionOptions,
  type OnnxRuntimeBackendOptions,
} from './session.js';
export { Graph, OPSET, type Value, type Dim, type DType } from './graph.js';
export { gradients, unbroadcast, DIFFERENTIABLE_OPS } from './autodiff.js';
export {
  buildForward,
  logitsGraph,
  lossGraph,
  maskGradientGraph,
  HEAD_MASK,
  NEURON_MASK,
  HEAD_GRAD,
  NEURON_GRAD,
} from './encoder-graph.js';
export { exportOnnx, type ExportOptions, type NamedHead } from './export.js';
