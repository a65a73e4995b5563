import { registerBackend } from '@fmn/core';
import { createOnnxRuntimeBackend } from './session.js';

export {
  OnnxRuntimeBackend,
  createOnnxRuntimeBackend,
  sessionOptions,
  type OnnxRuntimeBackendOptions,
} from './session.js';
export { Graph, OPSET, type Value, type Dim, type DType } from './graph.js';
export { gradients, unbroadcast, DIFFERENTIABLE_OPS } from './autodiff.js';
export { buildForward, logitsGraph, lossGraph, maskGradientGraph } from './encoder-graph.js';

registerBackend('onnxruntime', { init: () => createOnnxRuntimeBackend() }, 15);
export { exportOnnx, type ExportOptions, type NamedHead } from './export.js';
