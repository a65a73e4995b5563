import type { Checkpoint, HfConfig } from './checkpoint.js';
import type { EncoderModel, MaskLayout, Param } from './encoder.js';
import { FmnError } from './errors.js';
import type { ArchitectureFixture } from './fixture-spec.js';

/**
 * How a tensor's merge weight is read off one model's mask Fisher (METHOD.md 5.1 and 5.2).
 * `per-head`: index i along `axis` (0 = rows / bias entries, 1 = columns) belongs to head
 * floor(i / headSize) and takes head F[layer, head]. `per-neuron`: index i along `axis` takes
 * neuron F[layer, i]. `head-mean` / `neuron-mean`: the layer's mean over heads / neurons.
 * `universal`: mean over layers of (mean_h head F + mean_i neuron F).
 */
export type Weighting =
  | { readonly kind: 'universal' }
  | { readonly kind: 'head-mean'; readonly layer: number }
  | { readonly kind: 'neuron-mean'; readonly layer: number }
  | { readonly kind: 'per-head'; readonly layer: number; readonly axis: 0 | 1 }
  | { readonly kind: 'per-neuron'; readonly layer: number; readonly axis: 0 | 1 };

export type MaskMapping = 'paper' | 'block';

/** A tensor's part in a merge: a task-head tensor is never merged; the rest have a weighting per mapping. */
export type TensorRole =
  | { readonly taskHead: true }
  | { readonly taskHead: false; readonly paper: Weighting; readonly block: Weighting };

export interface LoadOptions {
  /** Called with non-fatal findings, e.g. tensors in the checkpoint that the adapter does not use. */
  onWarning?: (message: string) => void;
}

/** The special tokens' strings, used when tokenizer_config.json and special_tokens_map.json do not name them. */
export interface SpecialTokenStrings {
  readonly cls: string;
  readonly sep: string;
  readonly pad: string;
  readonly unk: string;
  readonly mask: string;
}

/**
 * How an architecture's tokenizer frames its inputs, when the tokenizer files do not say (a folder
 * with vocab files and no tokenizer.json post-processor).
 */
export interface TokenizerConventions {
  /**
   * `bert`: `cls A sep` and `cls A sep B sep` with token types 0 for A and 1 for B (HF
   * BertProcessing); `roberta`: `cls A sep` and `cls A sep sep B sep`, all of type 0
   * (RobertaProcessing).
   */
  readonly template: 'bert' | 'roberta';
  readonly specialTokens: SpecialTokenStrings;
  /** the vocabulary files `save_pretrained` writes for this architecture's tokenizer */
  readonly files: readonly string[];
  /** Whether the model takes token_type_ids, from its config.json. */
  usesTokenTypes(config: HfConfig): boolean;
}

/**
 * Maps one HuggingFace architecture onto the shared encoder description. One package per
 * architecture registers one adapter under its model_type.
 */
export interface ArchitectureAdapter {
  /** HuggingFace model_type this adapter handles ("bert", "roberta", ...). */
  readonly modelType: string;
  /** True when this adapter can read a checkpoint with this config. */
  detect(config: HfConfig): boolean;
  /** Mask layout read from the config alone. */
  maskLayout(config: HfConfig): MaskLayout;
  /** Reads and validates a checkpoint into an encoder description (head included when present). */
  load(checkpoint: Checkpoint, options?: LoadOptions): Promise<EncoderModel>;
  /**
   * Checks config.json against the weights' header (names, shapes, dtypes) without reading a
   * tensor: the errors `load` would give for a missing, mis-shaped or inconsistent tensor, and
   * dimensions out of range. `Checkpoint.open` calls it, so every reader (merge, eval, Fisher)
   * refuses an inconsistent model before allocating anything sized from it.
   */
  checkHeader?(checkpoint: Checkpoint): void;
  /** The model's tensors under their HuggingFace names, in the order the adapter writes them. */
  toTensors(model: EncoderModel): Param[];
  /** The merge role of a tensor of this architecture, by its name in a checkpoint with `config`. */
  role(name: string, config: HfConfig): TensorRole;
  /** True for the tensors of the task head (never merged; each task keeps its own). */
  isTaskHead(name: string, config: HfConfig): boolean;
  /**
   * The base model's name prefix with its dot (HF `base_model_prefix + '.'`: "bert.", "roberta.").
   * Task models store the encoder under it; a bare base model (`BertModel`) stores it without.
   * Every adapter shipped with fmn declares it (optional only so minimal test fakes type-check).
   */
  readonly prefix?: string;
  /** The tokenizer's conventions (every adapter shipped with fmn declares them). */
  readonly tokenizer?: TokenizerConventions;
  /**
   * Test only: loads how `@fmn/testkit` writes a random checkpoint of this architecture. The spec
   * lives in the package's `testing` subpath and is imported only when called, so production code
   * never loads it.
   */
  readonly fixture?: () => Promise<ArchitectureFixture>;
}

const adapters = new Map<string, ArchitectureAdapter>();

/**
 * Registers an architecture adapter under its model_type. A model_type is registered once: a
 * second registration is an FmnError (two copies of an adapter package, or two adapters claiming
 * one architecture), not a silent replacement.
 */
export function registerAdapter(adapter: ArchitectureAdapter): void {
  if (adapters.has(adapter.modelType)) {
    throw new FmnError(
      `an adapter for model_type ${JSON.stringify(adapter.modelType)} is already registered (is its package loaded twice, or do two adapters claim it?)`,
    );
  }
  adapters.set(adapter.modelType, adapter);
}

export function listAdapters(): ArchitectureAdapter[] {
  return [...adapters.values()];
}

export function getAdapter(modelType: string): ArchitectureAdapter | undefined {
  return adapters.get(modelType);
}

/** The registered model types, sorted. */
export function listModelTypes(): string[] {
  return [...adapters.keys()].sort();
}

function unsupported(modelType: unknown, file?: string): FmnError {
  const supported = listModelTypes().join(', ') || 'none registered';
  return new FmnError(`unsupported model_type ${JSON.stringify(modelType)} (supported: ${supported})`, file);
}

/** The adapter registered under `modelType`, or the error listing the supported model types. */
export function requireAdapter(modelType: string, file?: string): ArchitectureAdapter {
  const found = adapters.get(modelType);
  if (!found) throw unsupported(modelType, file);
  return found;
}

/**
 * The base-model name prefix of a config's architecture ("bert." for BERT), from its adapter;
 * an error for an unsupported model_type or an adapter that does not declare one.
 */
export function basePrefixOf(config: HfConfig, file?: string): string {
  const adapter = adapterFor(config, file);
  if (adapter.prefix === undefined) {
    throw new FmnError(`the ${adapter.modelType} adapter does not declare its base-model name prefix`, file);
  }
  return adapter.prefix;
}

/** The adapter for a config, or a clear error listing the supported model types. */
export function adapterFor(config: HfConfig, file?: string): ArchitectureAdapter {
  const byType = typeof config.model_type === 'string' ? adapters.get(config.model_type) : undefined;
  const found = byType ?? listAdapters().find((a) => a.detect(config));
  if (!found) throw unsupported(config.model_type, file);
  return found;
}
