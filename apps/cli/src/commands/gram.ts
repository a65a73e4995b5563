/**
 * `fmn gram`: RegMean's Gram matrices (docs/method.md §5.4) of a fine-tuned model's encoder
 * Linears over a dataset (no labels needed), written as one float32 [in, in] tensor per weight.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FmnError, checkOutputPath, computeGrams, gramTargets, writeGramFile } from '@fmn/core';
import { globals, out } from '../context.js';
import { dataHash, modelHash } from '../hash.js';
import { modelDir } from '../model-path.js';
import { parseIntOption, parseSamples } from '../options.js';
import { backendOption, batchesOf, openModel, prepareData, startBackend } from '../pipeline.js';
import { progressBar, type ProgressOptions } from '../progress.js';
import { formatShard, parseShard, shardRange, type Shard } from '../shard.js';
import { VERSION } from '../version.js';

export interface GramSettings {
  model: string;
  data: string;
  task?: string;
  split?: string;
  backend?: string;
  samples: number | 'all';
  batchSize: number;
  seed: number;
  maxLength?: number;
  tokenizer?: string;
  shard?: Shard;
}

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
  const [model_sha256, data_sha256] = await Promise.all([modelHash(s.model), dataHash(s.data)]);
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
      model: resolve(s.model),
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
  program
    .command('gram')
    .description(
      "Compute RegMean's Gram matrices (docs/method.md §5.4): for every Linear weight of the encoder " +
        "(query, key, value, attention output, both FFN linears, BERT's pooler, ELECTRA's embeddings_project), " +
        'the float32 [in, in] sum over the non-padding tokens of x x^T, x its input (the pooler: token 0), ' +
        'one tensor named after the weight. No labels needed.',
    )
    .option(
      '--model <dir>',
      'fine-tuned HuggingFace model folder or hub-cache org/name[@revision] (required)',
      modelDir,
    )
    .option(
      '--data <file>',
      'data (required; labels are not used): a TSV/CSV/JSONL/Parquet file or a GLUE-style task folder',
    )
    .option('--task <name>', 'GLUE task preset for the data columns (sst2, mrpc, mnli, stsb, ...)')
    .option('--split <name>', 'for a task folder: the split to read', 'train')
    .addOption(backendOption())
    .option(
      '--samples <n|all>',
      'examples to draw with the seeded RNG, or "all" (every example, file order)',
      parseSamples,
      128 as number | 'all',
    )
    .option('--batch-size <n>', 'examples per batch', (v) => parseIntOption('--batch-size', v, 1), 32)
    .option('--seed <n>', 'seed of the example draw', (v) => parseIntOption('--seed', v), 0)
    .option('--max-length <n>', "truncate inputs to n tokens (default: min(128, the model's limit))", (v) =>
      parseIntOption('--max-length', v, 2),
    )
    .option(
      '--tokenizer <dir>',
      'take the tokenizer from this folder or hub-cache org/name; pre-tokenized data needs none',
      modelDir,
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
      for (const k of ['model', 'data', 'out'] as const) {
        if (!opts[k]) throw new FmnError(`gram: required option --${k} not given`);
      }
      const shard = opts.shard ? parseShard(opts.shard as string) : undefined;
      await checkOutputPath(
        opts.out as string,
        [
          { path: opts.model as string, what: 'the model' },
          { path: opts.data as string, what: 'the data' },
          ...(opts.tokenizer ? [{ path: opts.tokenizer as string, what: 'the tokenizer' }] : []),
        ],
        { kind: 'file', force: opts.force === true },
      );
      const r = await computeGramFile(
        {
          model: opts.model as string,
          data: opts.data as string,
          task: opts.task as string | undefined,
          split: opts.split as string,
          backend: opts.backend as string | undefined,
          samples: opts.samples as number | 'all',
          batchSize: opts.batchSize as number,
          seed: opts.seed as number,
          maxLength: opts.maxLength as number | undefined,
          tokenizer: opts.tokenizer as string | undefined,
          shard,
        },
        opts.out as string,
        g,
      );
      if (opts.json) {
        out(JSON.stringify({ model: opts.model, data: opts.data, out: opts.out, ...r }));
        return;
      }
      out(
        `Gram matrices of ${String(opts.model)} (${r.tensors} Linears) over ${r.examples} examples${shard ? ` (shard ${formatShard(shard)})` : ''} on ${r.backend} [${r.runtime}] in ${r.seconds.toFixed(2)} s -> ${String(opts.out)}`,
      );
    });
}
