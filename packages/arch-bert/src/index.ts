/**
 * @fmn/arch-bert: the BERT adapter (registered on import), the factory for BERT-named
 * architectures (`createBertLikeAdapter`) and the kit adapters are written with.
 */
import { registerAdapter } from '@fmn/core';
import { bertAdapter } from './adapter.js';

registerAdapter(bertAdapter);

export { bertAdapter };
export { BERT_LAYER_SLOTS, createBertLikeAdapter, toTensors, type BertLikeSpec } from './bert-like.js';
export {
  BERT_TOKENIZER,
  WORDPIECE_SPECIAL_TOKENS,
  tokenizerConventions,
  type TokenizerConventionsSpec,
} from './tokenizer-conventions.js';
export {
  CONFIG_MAXIMA,
  HF_ACTIVATIONS,
  TASK_HEAD,
  UNIVERSAL,
  checkTensors,
  configActivation,
  configArchitecture,
  configFile,
  configInt,
  configNumber,
  detectPrefix,
  headSizeOf,
  isBuffer,
  layerRole,
  linearSpecs,
  normSpecs,
  readTensors,
  stripPrefix,
  takeLinear,
  takeNorm,
  type LayerSlot,
  type ReadTensorsOptions,
  type TensorSpec,
} from './kit.js';
