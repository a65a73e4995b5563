/**
 * Building blocks for architecture adapters: reading config.json values with HuggingFace's
 * defaults, reading and validating a checkpoint's tensors against the layout an adapter expects
 * (missing, unexpected, mis-shaped), and the merge roles of METHOD.md 5.1 / 5.2. Shared by the
 * BERT, RoBERTa, ELECTRA and DistilBERT adapters; a new architecture's package can use them too.
 */
import { join } from 'node:path';
import {
  FmnError,
  describeConfigValue,
  formatShape,
  shapeEquals,
  toFloat32,
  type Activation,
  type Checkpoint,
  type HfConfig,
  type LayerNorm,
  type Linear,
  type Param,
  type TensorRole,
  type Weighting,
} from '@fmn/core';

/** The path of a checkpoint's config.json, for error messages. */
export function configFile(checkpoint: Checkpoint): string {
  return join(checkpoint.dir, 'config.json');
}

/**
 * Upper bounds of config.json dimensions (docs/limits.md): far above any BERT-family model, low
 * enough that a corrupt value (`num_hidden_layers: 1e9`) fails before anything is sized from it.
 */
export const CONFIG_MAXIMA: Readonly<Record<string, number>> = {
  num_hidden_layers: 1024,
  n_layers: 1024,
  num_attention_heads: 1024,
  n_heads: 1024,
  hidden_size: 65_536,
  dim: 65_536,
  embedding_size: 65_536,
  intermediate_size: 1 << 20,
  hidden_dim: 1 << 20,
  vocab_size: 1 << 22,
  max_position_embeddings: 1 << 20,
  type_vocab_size: 1 << 16,
};

/**
 * A non-negative integer from config.json, or `fallback` (HuggingFace's default) when the key is
 * absent; at most `CONFIG_MAXIMA[key]` for the dimensions listed there.
 */
export function configInt(
  config: HfConfig,
  key: string,
  fallback: number | undefined,
  file?: string,
): number {
  const v = config[key] ?? fallback;
  if (v === undefined) throw new FmnError(`config.json has no "${key}"`, file);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new FmnError(
      `"${key}" in config.json must be a non-negative integer, got ${describeConfigValue(v)}`,
      file,
    );
  }
  const max = Object.hasOwn(CONFIG_MAXIMA, key) ? CONFIG_MAXIMA[key]! : Number.MAX_SAFE_INTEGER;
  if (v > max) {
    throw new FmnError(`"${key}" in config.json is ${v}, above fmn's limit of ${max}`, file);
  }
  return v;
}

/** A finite number from config.json, or `fallback` when the key is absent. */
export function configNumber(config: HfConfig, key: string, fallback: number, file?: string): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FmnError(
      `"${key}" in config.json must be a finite number, got ${describeConfigValue(v)}`,
      file,
    );
  }
  return v;
}

/** HuggingFace activation names (ACT2FN keys) that fmn computes, and the fmn activation each is. */
export const HF_ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_new',
  gelu_fast: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  relu: 'relu',
  tanh: 'tanh',
  linear: 'identity',
};

/** Maps a config activation (hidden_act, activation) to fmn's, with a clear error when unsupported. */
export function configActivation(config: HfConfig, key: string, fallback: string, file?: string): Activation {
  const v = config[key] ?? fallback;
  const act = typeof v === 'string' && Object.hasOwn(HF_ACTIVATIONS, v) ? HF_ACTIVATIONS[v] : undefined;
  if (!act) {
    throw new FmnError(
      `unsupported "${key}" ${describeConfigValue(v)} in config.json (supported: ${Object.keys(HF_ACTIVATIONS).join(', ')})`,
      file,
    );
  }
  return act;
}

/** hidden / heads, or an error when the hidden size is not divisible by the number of heads. */
export function headSizeOf(
  hidden: number,
  heads: number,
  file?: string,
  keys = ['hidden_size', 'num_attention_heads'],
): number {
  if (heads <= 0 || hidden % heads !== 0) {
    throw new FmnError(
      `hidden size ${hidden} ("${keys[0]}") is not divisible by the number of attention heads ${heads} ("${keys[1]}")`,
      file,
    );
  }
  return hidden / heads;
}

/** A tensor an adapter expects, with its shape as config.json implies. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface ReadTensorsOptions {
  /** Tensors read when present (e.g. a bare model's pooler); their shape is still checked. */
  readonly optional?: readonly TensorSpec[];
  /** Names that are silently skipped (buffers such as embeddings.position_ids). */
  readonly ignore?: (name: string) => boolean;
  /** Receives the warning about tensors the adapter does not use. */
  readonly onWarning?: (message: string) => void;
  /** "a BertForSequenceClassification model" and the like, for messages. */
  readonly what: string;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

function listNames(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/**
 * Checks the header against the tensors an adapter expects, reading nothing: missing tensors (all
 * listed), shapes that differ from config.json (expected vs actual), non-float dtypes. Errors are
 * FmnErrors naming the weights file (or folder) and config.json. Returns the specs to read:
 * `required` and the `optional` ones present.
 */
export function checkTensors(
  checkpoint: Checkpoint,
  required: readonly TensorSpec[],
  options: ReadTensorsOptions,
): TensorSpec[] {
  const optional = options.optional ?? [];
  const missing = required.filter((s) => !checkpoint.has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    throw new FmnError(
      `missing ${missing.length} tensor${missing.length === 1 ? '' : 's'} for ${options.what} (as ${configFile(checkpoint)} describes it): ${listNames(missing)}`,
      checkpoint.dir,
    );
  }
  const wanted = [...required, ...optional.filter((s) => checkpoint.has(s.name))];
  const problems: string[] = [];
  let problemFile: string | undefined;
  for (const s of wanted) {
    const info = checkpoint.info(s.name);
    if (!shapeEquals(info.shape, s.shape)) {
      problems.push(`"${s.name}" has shape ${formatShape(info.shape)}, expected ${formatShape(s.shape)}`);
      problemFile ??= info.file;
    } else if (!FLOAT_DTYPES.has(info.dtype)) {
      problems.push(`"${s.name}" has dtype ${info.dtype}, expected a float dtype`);
      problemFile ??= info.file;
    }
  }
  if (problems.length > 0) {
    throw new FmnError(
      `tensor shape mismatch for ${options.what} (shapes from ${configFile(checkpoint)}): ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`,
      problemFile,
    );
  }
  return wanted;
}

/**
 * Reads the tensors an adapter expects into float32 Params that keep their HuggingFace name and
 * source dtype, after `checkTensors`. Tensors the adapter does not use are reported once through
 * `onWarning` and not read.
 */
export async function readTensors(
  checkpoint: Checkpoint,
  required: readonly TensorSpec[],
  options: ReadTensorsOptions,
): Promise<Map<string, Param>> {
  const wanted = checkTensors(checkpoint, required, options);
  const wantedNames = new Set(wanted.map((s) => s.name));
  const unexpected = checkpoint.names().filter((n) => !wantedNames.has(n) && !options.ignore?.(n));
  if (unexpected.length > 0) {
    options.onWarning?.(
      `ignoring ${unexpected.length} tensor${unexpected.length === 1 ? '' : 's'} that ${options.what} does not use: ${listNames(unexpected)}`,
    );
  }
  const out = new Map<string, Param>();
  for (const s of wanted) {
    const raw = await checkpoint.read(s.name);
    out.set(s.name, { name: s.name, shape: [...raw.shape], data: toFloat32(raw), sourceDType: raw.dtype });
  }
  return out;
}

/** Buffers some checkpoints store beside the weights (not parameters): skipped silently. */
export function isBuffer(name: string): boolean {
  return /(^|\.)embeddings\.(position_ids|token_type_ids)$/.test(name);
}

/** Specs of a Linear layer [out, in] (+ bias [out]) and of a LayerNorm [n]. */
export function linearSpecs(name: string, out: number, inp: number, bias = true): TensorSpec[] {
  return bias
    ? [
        { name: `${name}.weight`, shape: [out, inp] },
        { name: `${name}.bias`, shape: [out] },
      ]
    : [{ name: `${name}.weight`, shape: [out, inp] }];
}

export function normSpecs(name: string, n: number): TensorSpec[] {
  return [
    { name: `${name}.weight`, shape: [n] },
    { name: `${name}.bias`, shape: [n] },
  ];
}

function take(params: Map<string, Param>, name: string): Param {
  const p = params.get(name);
  if (!p) throw new Error(`internal: tensor "${name}" was not read`);
  return p;
}

export function takeLinear(params: Map<string, Param>, name: string, bias = true): Linear {
  return bias
    ? { weight: take(params, `${name}.weight`), bias: take(params, `${name}.bias`) }
    : { weight: take(params, `${name}.weight`) };
}

export function takeNorm(params: Map<string, Param>, name: string, eps: number): LayerNorm {
  return { weight: take(params, `${name}.weight`), bias: take(params, `${name}.bias`), eps };
}

/** The tensors of one encoder layer, in the terms of the encoder description. */
export type LayerSlot =
  'query' | 'key' | 'value' | 'attentionOutput' | 'attentionNorm' | 'intermediate' | 'output' | 'outputNorm';

const both = (w: Weighting): TensorRole => ({ taskHead: false, paper: w, block: w });

export const UNIVERSAL: TensorRole = both({ kind: 'universal' });
export const TASK_HEAD: TensorRole = { taskHead: true };

/**
 * The merge role of a tensor of encoder layer `layer` (METHOD.md 5.1 `paper` and 5.2 `block`).
 * `part` is "weight" or "bias" (LayerNorm weight and bias take the same role).
 */
export function layerRole(slot: LayerSlot, part: 'weight' | 'bias', layer: number): TensorRole {
  const headRows: Weighting = { kind: 'per-head', layer, axis: 0 };
  const headMean: Weighting = { kind: 'head-mean', layer };
  const neuronRows: Weighting = { kind: 'per-neuron', layer, axis: 0 };
  const neuronMean: Weighting = { kind: 'neuron-mean', layer };
  switch (slot) {
    case 'query':
    case 'key':
      return both(headRows);
    case 'value':
      return { taskHead: false, paper: headMean, block: headRows };
    case 'attentionOutput':
      return part === 'weight'
        ? { taskHead: false, paper: headMean, block: { kind: 'per-head', layer, axis: 1 } }
        : both(headMean);
    case 'attentionNorm':
      return both(headMean);
    case 'intermediate':
      return both(neuronRows);
    case 'output':
      return part === 'weight'
        ? { taskHead: false, paper: neuronMean, block: { kind: 'per-neuron', layer, axis: 1 } }
        : both(neuronMean);
    case 'outputNorm':
      return both(neuronMean);
  }
}

/** Strips `prefix` from `name` when present. */
export function stripPrefix(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** The name prefix a checkpoint uses: `prefix` when any tensor carries it, else "" (a bare base model). */
export function detectPrefix(checkpoint: Checkpoint, prefix: string): string {
  return checkpoint.names().some((n) => n.startsWith(prefix)) ? prefix : '';
}

/** The first entry of config.architectures, if any. */
export function configArchitecture(config: HfConfig): string | undefined {
  const a = config.architectures;
  return Array.isArray(a) && typeof a[0] === 'string' ? a[0] : undefined;
}
