/**
 * @fmn/data: local GLUE-style datasets (TSV, CSV, JSONL, Parquet, pre-tokenized JSONL),
 * HuggingFace tokenizers, batching to core's `Batch`, seeded sampling (METHOD.md section 3) and
 * GLUE metrics with a seeded paired bootstrap for their intervals (METHOD.md section 6).
 *
 * Typical use:
 * ```ts
 * const ds = await loadDataset('glue/MRPC', { split: 'dev' });
 * const labels = resolveLabels(ds, config, { model: modelDir });
 * const tok = await loadTokenizer(modelDir, config);
 * const idx = sampleIndices(ds.examples.length, 128, 0);
 * const enc = encodeExamples(ds, tok, {
 *   maxLength: 128,
 *   examples: idx.map((i) => ds.examples[i]!),
 *   labels: idx.map((i) => labels[i]!),
 * });
 * const batches = makeBatches(enc, { batchSize: 32, padTokenId: tok.padTokenId, tokenTypes: tok.usesTokenTypes });
 * ```
 */
export { MAX_DATA_FILE_BYTES, MAX_EXAMPLES, MAX_LINE_CHARS } from './limits.js';
export { GLUE_TASKS, findTaskPreset, type GlueTask, type MetricName, type TaskPreset } from './presets.js';
export {
  formatOf,
  readTable,
  splitCsv,
  splitTsv,
  type ReadTableOptions,
  type Table,
  type TableFormat,
  type TableRow,
} from './tables.js';
export {
  loadDataset,
  type Dataset,
  type LoadDatasetOptions,
  type RawLabel,
  type TextDataset,
  type TextExample,
  type TokenizedDataset,
  type TokenizedExample,
} from './dataset.js';
export { resolveLabels, type ResolveLabelsOptions } from './labels.js';
export {
  BYTE_LEVEL_BPE_CONVENTIONS,
  TextTokenizer,
  WORDPIECE_CONVENTIONS,
  configUsesTokenTypes,
  loadTokenizer,
  registeredTokenizerConventions,
  specialStrings,
  truncateLongestFirst,
  type EncodedText,
  type SpecialStrings,
  type SpecialTemplate,
  type TemplatePiece,
} from './tokenizer.js';
export { buildTokenizerJson, ensureTokenizerJson } from './tokenizer-json.js';
export {
  encodeExamples,
  makeBatches,
  type BatchOptions,
  type EncodeOptions,
  type EncodedExample,
} from './batches.js';
export { mulberry32, sampleExamples, sampleIndices } from './sampling.js';
export {
  accuracy,
  argmaxRows,
  averageRanks,
  f1,
  matthews,
  metricValue,
  finiteMetric,
  metricsForTask,
  pearson,
  spearman,
  type TaskMetrics,
} from './metrics.js';
export {
  BOOTSTRAP_LEVEL,
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  PairedBootstrap,
  excludesZero,
  percentileInterval,
  streamSeed,
  type BootstrapOptions,
} from './bootstrap.js';
