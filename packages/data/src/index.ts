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
export * from './presets.js';
export * from './tables.js';
export * from './dataset.js';
export * from './labels.js';
export * from './tokenizer.js';
export * from './batches.js';
export * from './sampling.js';
export * from './metrics.js';
export * from './bootstrap.js';
export * from './tokenizer-json.js';
