/**
 * What the commands share: opening a model through its adapter, starting a backend, reading and
 * tokenizing a dataset for a model, and running logits over a dataset.
 */
import { Option } from 'commander';
import {
  Checkpoint,
  FmnError,
  adapterFor,
  backendChoices,
  isFmnError,
  configNumLabels,
  resolveBackend,
  type ArchitectureAdapter,
  type Backend,
  type Batch,
  type EncoderModel,
  type HfConfig,
  type ModelSession,
  type ResolvedBackend,
} from '@fmn/core';
import {
  argmaxRows,
  configUsesTokenTypes,
  encodeExamples,
  loadDataset,
  loadTokenizer,
  makeBatches,
  finiteMetric,
  metricsForTask,
  resolveLabels,
  sampleIndices,
  accuracy,
  f1,
  pearson,
  spearman,
  type Dataset,
  type EncodedExample,
  type MetricName,
} from '@fmn/data';
import './register.js';
import { note, progressBar, type ProgressOptions } from './progress.js';

export interface OpenedModel {
  readonly dir: string;
  readonly config: HfConfig;
  readonly adapter: ArchitectureAdapter;
  readonly model: EncoderModel;
  readonly numLabels: number;
}

/** Reads a HuggingFace model folder into an encoder description through its architecture adapter. */
export async function openModel(dir: string, progress: ProgressOptions = {}): Promise<OpenedModel> {
  const ckpt = await Checkpoint.open(dir);
  try {
    const adapter = adapterFor(ckpt.config, dir);
    const model = await adapter.load(ckpt, {
      onWarning: (m) => note(progress, `warning: ${dir}: ${m}`),
    });
    if (model.head?.kind !== 'classification') {
      throw new FmnError(
        'this model has no sequence-classification head (a fine-tuned *ForSequenceClassification checkpoint is needed here)',
        dir,
      );
    }
    return { dir, config: ckpt.config, adapter, model, numLabels: model.head.numLabels };
  } finally {
    await ckpt.close();
  }
}

/**
 * The one default of every command, run configs and the demo when no backend is named: the
 * fastest that starts here, onnxruntime, else the tfjs family (tfjs-node, tfjs-wasm, tfjs-cpu, by
 * their registered priority). tfjs is only imported when onnxruntime does not start.
 */
export const DEFAULT_BACKENDS = ['onnxruntime', 'tfjs'] as const;

/** The help text of every --backend option. */
export const BACKEND_HELP = `compute backend (default: the fastest that starts here: ${DEFAULT_BACKENDS.join(', else ')})`;

/**
 * The --backend option of every command: its choices are the backends registered with @fmn/core
 * when the program is built (register.ts; a family such as "tfjs" and each of its variants), so
 * a newly registered backend is accepted and listed in the help without editing the CLI.
 */
export function backendOption(): Option {
  return new Option('--backend <name>', BACKEND_HELP).choices(backendChoices());
}

async function resolveDefaultBackend(): Promise<ResolvedBackend> {
  const failures: ResolvedBackend['failures'] = [];
  for (const name of DEFAULT_BACKENDS) {
    try {
      const r = await resolveBackend(name);
      return { backend: r.backend, failures: [...failures, ...r.failures] };
    } catch (e) {
      failures.push({ name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new FmnError(`no backend could start: ${failures.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

/** Starts the preferred backend (or the default one), saying which runtime it is. */
export async function startBackend(
  preference: string | undefined,
  progress: ProgressOptions = {},
): Promise<Backend> {
  let resolved: ResolvedBackend;
  if (preference === undefined) {
    resolved = await resolveDefaultBackend();
  } else {
    resolved = await resolveBackend(preference);
  }
  const { backend, failures } = resolved;
  // a runtime that does not start here (tfjs-node without its native binding) is expected: say so
  // only with --debug; every command reports the runtime it used
  if (progress.debug) {
    for (const f of failures)
      note(progress, `note: backend ${f.name} unavailable (${f.reason}); using the next one`);
  }
  return backend;
}

/** The longest input the model's position embeddings allow. */
export function modelMaxLength(model: EncoderModel): number {
  const p = model.embeddings.positionIds;
  return p.kind === 'padding-offset' ? model.dims.maxPositions - p.padTokenId - 1 : model.dims.maxPositions;
}

export interface DataOptions {
  data: string;
  task?: string;
  /** for a GLUE-style folder: which split (default: train for Fisher, dev for eval) */
  split?: string;
  maxLength?: number;
  /** `all` (file order) or N examples drawn with `seed` (docs/method.md §3) */
  samples?: number | 'all';
  seed?: number;
  /** labels are required (Fisher, eval) or ignored (predict) */
  labels: boolean;
  /** the folder whose tokenizer files to use (default: the model's own) */
  tokenizer?: string;
}

export interface PreparedData {
  readonly dataset: Dataset;
  readonly encoded: EncodedExample[];
  /** the labels of the encoded examples (when asked for) */
  readonly labels?: Float32Array;
  readonly padTokenId: number;
  readonly tokenTypes: boolean;
  readonly maxLength: number;
}

/** Loads a dataset for a model: tokenized with the model's tokenizer, labels mapped through its config. */
export async function prepareData(m: OpenedModel, o: DataOptions): Promise<PreparedData> {
  checkMaxLength(m, o.maxLength);
  const dataset = await loadDataset(o.data, {
    task: o.task,
    split: o.split,
    ...(o.labels ? {} : { columns: { label: null } }),
  });
  return prepareDataset(m, dataset, o);
}

function checkMaxLength(m: OpenedModel, requested: number | undefined): number {
  const limit = modelMaxLength(m.model);
  const maxLength = requested ?? Math.min(128, limit);
  if (maxLength > limit) {
    throw new FmnError(
      `--max-length ${maxLength} is longer than the model's position embeddings allow (${limit})`,
      m.dir,
    );
  }
  return maxLength;
}

/** Tokenizes a dataset already read (e.g. texts from the command line) for a model. */
export async function prepareDataset(
  m: OpenedModel,
  dataset: Dataset,
  o: Omit<DataOptions, 'data' | 'task' | 'split'>,
): Promise<PreparedData> {
  const maxLength = checkMaxLength(m, o.maxLength);
  if (dataset.examples.length === 0) throw new FmnError('the dataset has no examples', dataset.file);
  const allLabels = o.labels ? resolveLabels(dataset, m.config, { model: m.dir }) : undefined;
  const idx = sampleIndices(dataset.examples.length, o.samples ?? 'all', o.seed ?? 0);
  // pre-tokenized data needs no tokenizer, only whether the model takes token types
  const tokenizer =
    dataset.kind === 'tokenized'
      ? { usesTokenTypes: configUsesTokenTypes(m.config) }
      : await loadTokenizer(o.tokenizer ?? m.dir, m.config).catch((e: unknown) => {
          if (o.tokenizer === undefined && isFmnError(e) && /no tokenizer found/.test(e.message))
            throw new FmnError(
              `${e.message}; give --tokenizer DIR|org/name (e.g. the base model's), or pre-tokenized data (input_ids)`,
            );
          throw e;
        });
  const labels = allLabels ? Float32Array.from(idx, (i) => allLabels[i]) : undefined;
  const encoded = encodeExamples(dataset, tokenizer, {
    maxLength,
    examples: idx.map((i) => dataset.examples[i]),
    labels,
    vocabSize: m.model.dims.vocabSize,
  });
  return {
    dataset,
    encoded,
    labels,
    padTokenId: m.model.dims.padTokenId,
    tokenTypes: tokenizer.usesTokenTypes && m.model.embeddings.tokenType !== undefined,
    maxLength,
  };
}

export function batchesOf(d: PreparedData, batchSize: number, bucketing = false): Batch[] {
  return makeBatches(d.encoded, { batchSize, padTokenId: d.padTokenId, tokenTypes: d.tokenTypes, bucketing });
}

/** Logits of every example, in order: [N * numLabels]. */
export async function predictLogits(
  session: ModelSession,
  d: PreparedData,
  numLabels: number,
  batchSize: number,
  progress: ProgressOptions & { label?: string },
): Promise<Float32Array> {
  const batches = batchesOf(d, batchSize);
  const out = new Float32Array(d.encoded.length * numLabels);
  const bar = progressBar(progress, (progress.label ?? 'eval').padEnd(24), d.encoded.length, 'examples');
  let at = 0;
  try {
    for (const b of batches) {
      const logits = await session.logits(b);
      if (logits.length !== b.size * numLabels) {
        throw new Error(
          `backend returned ${logits.length} logits for ${b.size} examples x ${numLabels} labels`,
        );
      }
      out.set(logits, at * numLabels);
      at += b.size;
      bar.increment(b.size);
    }
  } finally {
    bar.stop();
  }
  return out;
}

export interface EvalResult {
  /** metric name -> value */
  readonly metrics: Partial<Record<MetricName, number>>;
  /** the task's score: mean of its metrics */
  readonly score: number;
  readonly examples: number;
  /** the metrics the score averages, in order */
  readonly metricNames: readonly MetricName[];
  /** per example, in data order: the predicted class (or value, for regression) and the label */
  readonly predictions: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
}

/**
 * Metrics of docs/method.md §6: the task preset's when the dataset has one; otherwise accuracy
 * (and F1 for two classes) for classification, Pearson and Spearman for regression.
 */
export function scoreLogits(d: PreparedData, logits: Float32Array, numLabels: number): EvalResult {
  const labels = d.labels!;
  const preds = numLabels === 1 ? logits : argmaxRows(logits, numLabels);
  const task = d.dataset.task;
  if (task) {
    const r = metricsForTask(task, preds, labels, d.dataset.file);
    const metricNames = Object.keys(r.metrics) as MetricName[];
    return {
      metrics: r.metrics,
      score: r.score,
      examples: labels.length,
      metricNames,
      predictions: preds,
      labels,
    };
  }
  const names: MetricName[] =
    numLabels === 1 ? ['pearson', 'spearman'] : numLabels === 2 ? ['accuracy', 'f1'] : ['accuracy'];
  const fns = { accuracy, f1, pearson, spearman } as const;
  const metrics: Partial<Record<MetricName, number>> = {};
  for (const n of names) {
    metrics[n] = finiteMetric(n, fns[n as keyof typeof fns](preds, labels), preds, labels, d.dataset.file);
  }
  const score = names.reduce((s, n) => s + metrics[n]!, 0) / names.length;
  return { metrics, score, examples: labels.length, metricNames: names, predictions: preds, labels };
}

export { configNumLabels };
