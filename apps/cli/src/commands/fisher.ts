import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import {
  FmnError,
  GRAM_FORMAT,
  FULL_FISHER_FORMAT,
  MASK_FISHER_FORMAT,
  combineGrams,
  checkOutputPath,
  combineFullFishers,
  combineMaskFishers,
  SafetensorsFile,
  computeFullFisher,
  computeMaskFisher,
  encoderParams,
  modelRecordMetadata,
  readMaskFisher,
  writeFullFisher,
  writeMaskFisher,
  type FisherConvention,
  type FullFisherConvention,
} from '@fmn/core';
import { globals, out } from '../context.js';
import { dataHash, modelHash } from '../hash.js';
import { batchesOf, openModel, prepareData, startBackend } from '../pipeline.js';
import { progressBar, type ProgressOptions } from '../progress.js';
import { formatShard, parseShard, shardRange, type Shard } from '../shard.js';
import { VERSION } from '../version.js';
import { checkFisherSupport, fileConvention } from '../fisher-convention.js';
import {
  addSampleOptions,
  addTokenOptions,
  sampledDataSettings,
  type SampledDataSettings,
} from '../sampled-data.js';

export interface FisherSettings extends SampledDataSettings {
  convention: FisherConvention;
  full: boolean;
}

export interface FisherResult {
  /** seconds spent computing (model loaded, data tokenized; excludes writing) */
  seconds: number;
  examples: number;
  backend: string;
  runtime: string;
  metadata: Record<string, string>;
}

/**
 * Metadata keys that must agree between shards (and between a cached file and a request). Paths
 * are recorded too but not compared: shards may run on machines where the files live elsewhere.
 */
export const SETTING_KEYS = [
  'format',
  'model_sha256',
  'data_sha256',
  'task',
  'split',
  'convention',
  'samples',
  'batch_size',
  'seed',
  'max_length',
  'backend',
] as const;

/** Computes a mask Fisher (or the full Fisher) and writes it to `outPath`. Shared by `fisher` and `run`. */
export async function computeFisherFile(
  s: FisherSettings,
  outPath: string,
  progress: ProgressOptions & { label?: string },
): Promise<FisherResult> {
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1)
    throw new FmnError(`--batch-size must be a positive integer, got ${s.batchSize}`);
  const m = await openModel(s.model, progress);
  const data = await prepareData(m, {
    data: s.data,
    task: s.task,
    split: s.split ?? 'train',
    maxLength: s.maxLength,
    samples: s.samples,
    seed: s.seed,
    tokenizer: s.tokenizer,
    // the model convention uses the model's own predictive distribution: data without labels will do
    labels: s.convention !== 'model',
  });
  // `batch`: batches are consecutive slices of the sampled examples (the batch is part of the
  // definition). `example`, `model` and full Fisher do not depend on how examples are grouped: bucket by length.
  const bucketing = s.full || s.convention !== 'batch';
  const all = batchesOf(data, s.batchSize, bucketing);
  const [lo, hi] = shardRange(all.length, s.shard, { examples: data.encoded.length, batchSize: s.batchSize });
  const batches = all.slice(lo, hi);
  const total = batches.reduce((a, b) => a + b.size, 0);

  const backend = await startBackend(s.backend, progress);
  checkFisherSupport(backend, s);
  const [model_sha256, data_sha256, record] = await Promise.all([
    modelHash(s.model),
    dataHash(s.data),
    modelRecordMetadata(s.model),
  ]);
  const session = await backend.load(m.model);
  const label = (progress.label ?? (s.full ? 'full Fisher' : 'mask Fisher')).padEnd(24);
  const bar = progressBar(progress, label, total, 'examples');
  const metadata: Record<string, string> = {
    model: resolve(s.model),
    // the model record a merge checks the file against (core's formats/model-record.ts)
    ...(record.model_type ? { model_type: record.model_type } : {}),
    model_sha256,
    weights_sha256: record.weights_sha256,
    data: resolve(s.data),
    data_sha256,
    task: data.dataset.task?.name ?? '',
    split: s.split ?? 'train',
    convention: fileConvention(s),
    samples: String(s.samples),
    batch_size: String(s.batchSize),
    seed: String(s.seed),
    max_length: String(data.maxLength),
    backend: backend.name,
    backend_runtime: backend.runtime,
    shard: s.shard ? formatShard(s.shard) : '',
    fmn_version: VERSION,
    ...(s.tokenizer ? { tokenizer: resolve(s.tokenizer) } : {}),
  };
  let examplesDone = 0;
  const onBatch = (info: { examples: number; loss: number }) => {
    const step = info.examples - examplesDone;
    examplesDone = info.examples;
    bar.increment(step, Number.isFinite(info.loss) ? `loss ${info.loss.toFixed(4)}` : '');
  };
  const t0 = performance.now();
  try {
    if (s.full) {
      const r = await computeFullFisher(
        session,
        batches,
        { onBatch },
        fileConvention(s) as FullFisherConvention,
      );
      const seconds = (performance.now() - t0) / 1000;
      bar.stop();
      const shapes = new Map(encoderParams(m.model).map((p) => [p.name, p.shape]));
      const tensors = [...r.tensors.entries()].map(([name, values]) => ({
        name,
        shape: shapes.get(name) ?? [values.length],
        values,
      }));
      metadata.compute_seconds = seconds.toFixed(3);
      const md = await writeFullFisher(outPath, tensors, { examples: String(r.examples), ...metadata });
      return { seconds, examples: r.examples, backend: backend.name, runtime: backend.runtime, metadata: md };
    }
    const f = await computeMaskFisher(session, batches, s.convention, { onBatch });
    const seconds = (performance.now() - t0) / 1000;
    bar.stop();
    metadata.compute_seconds = seconds.toFixed(3);
    await writeMaskFisher(outPath, f, metadata);
    return {
      seconds,
      examples: f.examples,
      backend: backend.name,
      runtime: backend.runtime,
      metadata: {
        format: MASK_FISHER_FORMAT,
        examples: String(f.examples),
        head_size: String(f.layout.headSize),
        ...metadata,
      },
    };
  } finally {
    bar.stop();
    await session.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// fmn fisher combine

interface ShardFile {
  path: string;
  metadata: Readonly<Record<string, string>>;
  shard?: Shard;
}

function describe(key: string): string {
  return (
    {
      format: 'kind of Fisher',
      model_sha256: 'model (content hash)',
      data_sha256: 'data (content hash)',
      batch_size: 'batch size',
      max_length: 'max length',
    }[key] ?? key.replace(/_/g, ' ')
  );
}

/** Checks that shard files belong together: same settings, shards i/n of one n, each once. */
export function checkShards(files: ShardFile[]): number {
  const first = files[0];
  for (const f of files.slice(1)) {
    for (const k of SETTING_KEYS) {
      const a = first.metadata[k] ?? '';
      const b = f.metadata[k] ?? '';
      if (a !== b) {
        throw new FmnError(
          `cannot combine: different ${describe(k)} than ${first.path} (${k} ${JSON.stringify(b)} vs ${JSON.stringify(a)})`,
          f.path,
        );
      }
    }
  }
  const counts = new Set(files.map((f) => f.shard?.count));
  if (counts.has(undefined)) {
    const whole = files.find((f) => !f.shard)!;
    throw new FmnError(
      'cannot combine: this file is not a shard (it was computed without --shard)',
      whole.path,
    );
  }
  if (counts.size > 1) {
    throw new FmnError(
      `cannot combine: shards of different splits (${files.map((f) => `${f.path}: ${formatShard(f.shard!)}`).join(', ')})`,
    );
  }
  const n = first.shard!.count;
  const seen = new Map<number, string>();
  for (const f of files) {
    const prev = seen.get(f.shard!.index);
    if (prev)
      throw new FmnError(`cannot combine: shard ${formatShard(f.shard!)} given twice (also ${prev})`, f.path);
    seen.set(f.shard!.index, f.path);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) {
    throw new FmnError(
      `cannot combine: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} of ${n} (given: ${files.map((f) => `${f.path}: ${formatShard(f.shard!)}`).join(', ')})`,
    );
  }
  return n;
}

function combinedMetadata(files: ShardFile[], examples: number): Record<string, string> {
  const md: Record<string, string> = { ...files[0].metadata };
  md.shard = '';
  md.combined_shards = String(files.length);
  md.examples = String(examples);
  const secs = files.map((f) => Number(f.metadata.compute_seconds));
  if (secs.every(Number.isFinite)) md.compute_seconds = secs.reduce((a, b) => a + b, 0).toFixed(3);
  return md;
}

export async function combineFisher(
  paths: string[],
  outPath: string,
): Promise<{ kind: string; shards: number; examples: number }> {
  if (paths.length < 1) throw new FmnError('fisher combine needs at least one shard file');
  const files: ShardFile[] = [];
  for (const p of paths) {
    const f = await SafetensorsFile.open(p);
    const md = f.metadata;
    await f.close();
    const format = md.format;
    if (format !== MASK_FISHER_FORMAT && format !== FULL_FISHER_FORMAT && format !== GRAM_FORMAT) {
      throw new FmnError(
        `not a Fisher or Gram file written by fmn (metadata "format" is ${JSON.stringify(format ?? null)})`,
        p,
      );
    }
    let shard: Shard | undefined;
    try {
      shard = md.shard ? parseShard(md.shard) : undefined;
    } catch (e) {
      if (e instanceof FmnError)
        throw new FmnError(`invalid "shard" metadata ${JSON.stringify(md.shard)}`, p);
      throw e;
    }
    files.push({ path: p, metadata: md, shard });
  }
  const shards = checkShards(files);
  let examples = 0;
  for (const f of files) {
    const e = Number(f.metadata.examples);
    if (!Number.isInteger(e) || e < 0)
      throw new FmnError(`invalid "examples" metadata ${JSON.stringify(f.metadata.examples)}`, f.path);
    examples += e;
  }
  if (files[0].metadata.format === MASK_FISHER_FORMAT) {
    const parts = [];
    for (const f of files) parts.push({ path: f.path, fisher: await readMaskFisher(f.path) });
    const fisher = combineMaskFishers(parts);
    await writeMaskFisher(outPath, { ...fisher, examples }, combinedMetadata(files, examples));
    return { kind: 'mask', shards, examples };
  }
  // full Fisher and Gram matrices: summed tensor by tensor, one at a time
  if (files[0].metadata.format === GRAM_FORMAT) {
    await combineGrams(
      files.map((f) => f.path),
      outPath,
      combinedMetadata(files, examples),
    );
    return { kind: 'gram', shards, examples };
  }
  await combineFullFishers(
    files.map((f) => f.path),
    outPath,
    combinedMetadata(files, examples),
  );
  return { kind: 'full', shards, examples };
}

// ---------------------------------------------------------------------------------------------

export function registerFisher(program: Command): void {
  const fisher = program
    .command('fisher')
    // `fmn fisher combine ... --out F`: --out belongs to combine, not to fisher
    .enablePositionalOptions()
    .description(
      'Compute the mask Fisher of a fine-tuned model (docs/method.md §3: float32 tensors head [L, H] and ' +
        'neuron [L, I], sums over the sampled examples), or with --full the full diagonal Fisher (section 4).',
    );
  addSampleOptions(fisher, {
    data: 'data (required; labelled unless --convention model): a TSV/CSV/JSONL/Parquet file or a GLUE-style task folder',
    task: 'GLUE task preset for the data columns, labels and metrics (sst2, mrpc, mnli, stsb, ...)',
  }).addOption(
    new Option(
      '--convention <c>',
      "batch: sum over batches of squared batch-mean gradients; example: sum over examples; model: the model's own labels, sum over examples and classes of p(c|x) (d log p(c|x)/dm)^2, no data labels needed (with --full: example or model)",
    )
      .choices(['batch', 'example', 'model'])
      .default('batch'),
  );
  addTokenOptions(
    fisher,
    "take the tokenizer from this folder or hub-cache org/name (e.g. the base model's); pre-tokenized data needs none",
  )
    .option(
      '--shard <i/n>',
      'compute only shard i of n (0-based): the sampled examples are cut into batches, and shard i takes the i-th of n contiguous runs of batches; `fmn fisher combine` sums the shards into exactly the unsharded Fisher',
    )
    .option(
      '--full',
      'the full diagonal Fisher of every parameter (docs/method.md §4) instead of the mask Fisher',
    )
    .option('--out <file>', 'output .safetensors file (required; never an input)')
    .option('--force', 'replace an existing --out file')
    .option(
      '--json',
      'print one JSON object: kind, model, data, out, examples, shard, backend, runtime, seconds',
    )
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const g = globals(command);
      const settings = await sampledDataSettings('fisher', opts);
      const shard = settings.shard;
      const r = await computeFisherFile(
        { ...settings, convention: opts.convention as FisherConvention, full: opts.full === true },
        opts.out as string,
        g,
      );
      if (opts.json) {
        out(
          JSON.stringify({
            kind: opts.full ? 'full' : 'mask',
            model: opts.model,
            data: opts.data,
            out: opts.out,
            examples: r.examples,
            shard: shard ? formatShard(shard) : null,
            backend: r.backend,
            runtime: r.runtime,
            seconds: r.seconds,
          }),
        );
        return;
      }
      out(
        `${opts.full ? 'full' : 'mask'} Fisher of ${String(opts.model)} over ${r.examples} examples${shard ? ` (shard ${formatShard(shard)})` : ''} on ${r.backend} [${r.runtime}] in ${r.seconds.toFixed(2)} s -> ${String(opts.out)}`,
      );
    });

  fisher
    .command('combine')
    .description(
      'Sum Fisher shards (from `fmn fisher --shard i/n`, mask or full) or Gram shards (`fmn gram --shard i/n`) into one file. Refuses shards of different ' +
        'models, data or settings, and incomplete or repeated shard sets.',
    )
    .argument('<files...>', 'the shard files, in any order')
    .requiredOption('--out <file>', 'output .safetensors file (never one of the shards)')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print one JSON object: kind, shards, examples, out')
    .action(async (files: string[], opts: { out: string; force?: boolean; json?: boolean }) => {
      await checkOutputPath(
        opts.out,
        files.map((f, i) => ({ path: f, what: `shard ${i + 1}` })),
        { kind: 'file', force: opts.force === true },
      );
      const r = await combineFisher(files, opts.out);
      const what = r.kind === 'gram' ? 'Gram' : `${r.kind} Fisher`;
      out(
        opts.json
          ? JSON.stringify({ kind: r.kind, shards: r.shards, examples: r.examples, out: opts.out })
          : `combined ${r.shards} ${what} shards (${r.examples} examples) -> ${opts.out}`,
      );
    });
}
