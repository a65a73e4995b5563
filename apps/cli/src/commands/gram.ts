/**
 * `fmn gram`: RegMean's Gram matrices (docs/method.md §5.4) of a fine-tuned model's encoder
 * Linears over a dataset (no labels needed), written as one float32 [in, in] tensor per weight.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FmnError, computeGrams, gramTargets, modelRecordMetadata, writeGramFile } from '@fmn/core';
import { globals, out } from '../context.js';
import { dataHash, modelHash } from '../hash.js';
import { batchesOf, openModel, prepareData, startBackend } from '../pipeline.js';
import { progressBar, type ProgressOptions } from '../progress.js';
import {
  addSampleOptions,
  addTokenOptions,
  sampledDataSettings,
  type SampledDataSettings,
} from '../sampled-data.js';
import { formatShard, shardRange } from '../shard.js';
import { VERSION } from '../version.js';

export type GramSettings = SampledDataSettings;

/** Computes the Gram matrices of `s.model` over `s.data` and writes them to `outPath`. */
export async function computeGramFile(
  s: GramSettings,
  outPath: string,
  progress: ProgressOptions,
): Promise<{ seconds: number; examples: number; tensors: number; backend: string; runtime: string }> {
  const m = await openModel(s.model, progress);
  const data = await prepareData(m, {
    data: s.data,
    task: s.task,
    split: s.split ?? 'train',
    maxLength: s.maxLength,
    samples: s.samples,
    seed: s.seed,
    tokenizer: s.tokenizer,
    labels: false,
  });
  // sums over tokens do not depend on how examples are grouped: bucket by length
  const all = batchesOf(data, s.batchSize, true);
  const [lo, hi] = shardRange(all.length, s.shard, { examples: data.encoded.length, batchSize: s.batchSize });
  const batches = all.slice(lo, hi);
  const backend = await startBackend(s.backend, progress);
  if (!backend.capabilities.gram)
    throw new FmnError(
      `backend ${backend.name} does not compute Gram matrices (try --backend onnxruntime or tfjs)`,
    );
  // the encoder's Linears: the head's first one only where it is not a task-head tensor (BERT's pooler)
  const targets = gramTargets(m.model).filter((t) => !m.adapter.isTaskHead(t.name, m.config));
  const [model_sha256, data_sha256, record] = await Promise.all([
    modelHash(s.model),
    dataHash(s.data),
    modelRecordMetadata(s.model),
  ]);
  const session = await backend.load(m.model);
  const total = batches.reduce((a, b) => a + b.size, 0);
  const bar = progressBar(progress, 'Gram matrices'.padEnd(24), total, 'examples');
  let done = 0;
  const t0 = performance.now();
  try {
    const r = await computeGrams(session, targets, batches, {
      onBatch: ({ examples }) => {
        bar.increment(examples - done);
        done = examples;
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    bar.stop();
    await writeGramFile(outPath, r.grams, r.examples, {
      ...record,
      model_sha256,
      data: resolve(s.data),
      data_sha256,
      task: data.dataset.task?.name ?? '',
      split: s.split ?? 'train',
      samples: String(s.samples),
      batch_size: String(s.batchSize),
      seed: String(s.seed),
      max_length: String(data.maxLength),
      backend: backend.name,
      backend_runtime: backend.runtime,
      shard: s.shard ? formatShard(s.shard) : '',
      fmn_version: VERSION,
      compute_seconds: seconds.toFixed(3),
      ...(s.tokenizer ? { tokenizer: resolve(s.tokenizer) } : {}),
    });
    return {
      seconds,
      examples: r.examples,
      tensors: r.grams.size,
      backend: backend.name,
      runtime: backend.runtime,
    };
  } finally {
    bar.stop();
    await session.dispose();
  }
}

export function registerGram(program: Command): void {
  const cmd = program
    .command('gram')
    .description(
      "Compute RegMean's Gram matrices (docs/method.md §5.4): for every Linear weight of the encoder " +
        "(query, key, value, attention output, both FFN linears, BERT's pooler, ELECTRA's embeddings_project), " +
        'the float32 [in, in] sum over the non-padding tokens of x x^T, x its input (the pooler: token 0), ' +
        'one tensor named after the weight. No labels needed.',
    );
  addSampleOptions(cmd, {
    data: 'data (required; labels are not used): a TSV/CSV/JSONL/Parquet file or a GLUE-style task folder',
    task: 'GLUE task preset for the data columns (sst2, mrpc, mnli, stsb, ...)',
  });
  addTokenOptions(
    cmd,
    'take the tokenizer from this folder or hub-cache org/name; pre-tokenized data needs none',
  )
    .option(
      '--shard <i/n>',
      'compute only shard i of n (0-based), contiguous runs of batches as for `fmn fisher --shard`; `fmn fisher combine` sums the shards',
    )
    .option('--out <file>', 'output .safetensors file (required; never an input)')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print one JSON object: model, data, out, examples, tensors, backend, runtime, seconds')
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const g = globals(command);
      const settings = await sampledDataSettings('gram', opts);
      const r = await computeGramFile(settings, opts.out as string, g);
      if (opts.json) {
        out(JSON.stringify({ model: opts.model, data: opts.data, out: opts.out, ...r }));
        return;
      }
      const shard = settings.shard;
      out(
        `Gram matrices of ${String(opts.model)} (${r.tensors} Linears) over ${r.examples} examples${shard ? ` (shard ${formatShard(shard)})` : ''} on ${r.backend} [${r.runtime}] in ${r.seconds.toFixed(2)} s -> ${String(opts.out)}`,
      );
    });
}
