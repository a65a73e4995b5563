import type { Checkpoint, HfConfig } from './checkpoint.js';
import type { EncoderModel, MaskLayout, Param } from './encoder.js';
import { FmnError } from './errors.js';

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
  /** The model's tensors under their HuggingFace names, in the order the adapter writes them. */
  toTensors(model: EncoderModel): Param[];
  /** The merge role of a tensor of this architecture, by its name in a checkpoint with `config`. */
  role(name: string, config: HfConfig): TensorRole;
  /** True for the tensors of the task head (never merged; each task keeps its own). */
  isTaskHead(name: string, config: HfConfig): boolean;
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

/** The adapter for a config, or a clear error listing the supported model types. */
export function adapterFor(config: HfConfig, file?: string): ArchitectureAdapter {
  const byType = typeof config.model_type === 'string' ? adapters.get(config.model_type) : undefined;
  const found = byType ?? listAdapters().find((a) => a.detect(config));
  if (!found) {
    const supported = [...adapters.keys()].sort().join(', ') || 'none registered';
    throw new FmnError(
      `unsupported model_type ${JSON.stringify(config.model_type)} (supported: ${supported})`,
      file,
    );
  }
  return found;
}
