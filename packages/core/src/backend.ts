import type { EncoderModel, MaskLayout } from './encoder.js';
import { FmnError } from './errors.js';
import type { Trainer, TrainerOptions } from './training.js';

/** A padded batch of B sequences of length T, row-major [B, T]. */
export interface Batch {
  readonly size: number;
  readonly seqLen: number;
  readonly inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding */
  readonly attentionMask: Int32Array;
  /** zeros when absent */
  readonly tokenTypeIds?: Int32Array;
  /** class index (classification) or target value (regression), one per example */
  readonly labels?: Float32Array;
}

/**
 * `batch` and `example` use the data's labels; `model` the model's own predictive distribution
 * (METHOD.md section 3: no labels needed).
 */
export type FisherConvention = 'batch' | 'example' | 'model';

/** Conventions of the full diagonal Fisher (METHOD.md section 4): per-example labels, or the model's own. */
export type FullFisherConvention = 'example' | 'model';

/**
 * Mask values: shared masks are head [L*H] and neuron [L*I]; per-example masks (the `example`
 * convention) are head [B*L*H] and neuron [B*L*I]. All ones when omitted.
 */
export interface MaskValues {
  readonly head: Float32Array;
  readonly neuron: Float32Array;
}

export interface MaskGradients {
  /** mean loss over the batch (NaN for `model`, which uses no labels) */
  readonly loss: number;
  /**
   * `batch`: dLoss/dm_head [L*H]; `example`: dLoss_i/dm_head per example [B*L*H]; `model`: R = C*B
   * rows [R*L*H], row c*B + i holding d log p(c|x_i)/dm_i (C classes), or for regression (C = 1)
   * row i holding d y_hat_i/dm_i
   */
  readonly head: Float32Array;
  /** `batch`: [L*I]; `example`: [B*L*I]; `model`: [R*L*I], rows as `head` */
  readonly neuron: Float32Array;
  /**
   * `model` only: the weight of each row [R], p(c|x_i) for row c*B + i (all 1 for regression), so
   * that the Fisher is sum_r weights[r] * row_r^2
   */
  readonly weights?: Float32Array;
}

/** A model loaded onto a backend: weights uploaded once, used for many batches. */
export interface ModelSession {
  readonly layout: MaskLayout;
  /** [B, numLabels] logits of the classification head */
  logits(batch: Batch): Promise<Float32Array>;
  /** Mean loss over the batch (cross-entropy, or MSE when numLabels == 1), with the given masks. */
  loss(batch: Batch, masks?: MaskValues): Promise<number>;
  /**
   * Gradients of the loss w.r.t. the masks, at the given mask values (ones by default).
   * `batch`: gradient of the batch-mean loss w.r.t. shared masks. `example`: each example has its
   * own copy of the masks; returns dLoss_i/dm_i, where Loss_i is example i's own loss. `model`:
   * per-example masks as `example`, no labels needed; one row of gradients per class and example
   * with its probability as weight (see MaskGradients).
   */
  maskGradients(
    batch: Batch,
    options: { convention: FisherConvention; masks?: MaskValues },
  ): Promise<MaskGradients>;
  /**
   * Sum over the batch's examples of the squared per-example gradient of every parameter
   * (METHOD.md section 4), by HuggingFace name. Optional: a backend may not offer it. `example`
   * (default): gradients of each example's loss against its label; `model` (only when the
   * backend lists it in capabilities.fullFisherConventions; no labels needed): sum_i sum_c
   * p(c|x_i) (d log p(c|x_i)/dtheta)^2, or sum_i (d y_hat_i/dtheta)^2 for regression.
   */
  squaredParamGradients?(
    batch: Batch,
    options?: { convention?: FullFisherConvention },
  ): Promise<Map<string, Float32Array>>;
  /**
   * Gram matrices of the inputs of every encoder Linear (METHOD.md section 5.4), summed over the
   * batch's non-padding tokens (the BERT pooler's: token 0 only), by the Linear's weight name;
   * each [in*in] row-major. Optional: only when capabilities.gram is true. Linears that share
   * an input (query, key, value) may share one array.
   */
  linearInputGrams?(batch: Batch): Promise<Map<string, Float32Array>>;
  dispose(): Promise<void> | void;
}

/**
 * The version of this contract (Batch, MaskValues, ModelSession, Backend) that core implements.
 * A backend states the version it was written against; resolveBackend refuses another one. Raised
 * when a change to the contract would make an existing backend compute something else.
 */
export const BACKEND_CONTRACT_VERSION = 1;

/** What a backend can do, declared by the backend (so callers need not infer it from its name). */
export interface BackendCapabilities {
  /** the Fisher conventions its sessions' maskGradients compute */
  readonly conventions: readonly FisherConvention[];
  /** its sessions implement squaredParamGradients (the full diagonal Fisher, METHOD.md section 4) */
  readonly fullFisher: boolean;
  /** the conventions of its full Fisher (absent: ['example'] when fullFisher) */
  readonly fullFisherConventions?: readonly FullFisherConvention[];
  /** its sessions implement linearInputGrams (RegMean's Gram matrices, METHOD.md section 5.4) */
  readonly gram?: boolean;
  /**
   * it trains models (fine-tuning, masked-LM pre-training): the backend has createTrainer, whose
   * trainers also give parameter gradients (training.ts)
   */
  readonly training: boolean;
  /** the number of threads it computes on; absent when its runtime decides */
  readonly threads?: number;
}

export interface Backend {
  /** registry name, e.g. "tfjs-wasm" */
  readonly name: string;
  /** what actually runs, e.g. "tfjs 4.22.0 wasm (SIMD)" */
  readonly runtime: string;
  /** the BACKEND_CONTRACT_VERSION the backend implements */
  readonly contractVersion: number;
  readonly capabilities: BackendCapabilities;
  load(model: EncoderModel): Promise<ModelSession>;
  /**
   * A trainer for the model (its weights are copied; the model object is not changed): AdamW with
   * HuggingFace's linear schedule for a classification or masked-LM head (training.ts). Present
   * exactly when capabilities.training is true.
   */
  createTrainer?(model: EncoderModel, options: TrainerOptions): Promise<Trainer>;
  dispose?(): Promise<void> | void;
}

export interface BackendFactory {
  /** Creates the backend, or throws saying why it cannot run here. */
  init(): Promise<Backend>;
}

interface Registered {
  name: string;
  factory: BackendFactory;
  priority: number;
  instance?: Promise<Backend>;
}

const registry = new Map<string, Registered>();

/**
 * Registers a backend (as onnxruntime-common's registerBackend): higher priority is tried first.
 * Names are families and variants: "tfjs-node", "tfjs-wasm", "tfjs-cpu", "onnxruntime" (lower
 * case letters, digits, `.` and `_`; `-` separates a family from its variant). A name is
 * registered once: a second registration is an FmnError (two copies of a backend package, or two
 * packages claiming one name), not a silent replacement.
 */
export function registerBackend(name: string, factory: BackendFactory, priority: number): void {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._]*(-[a-z0-9._]+)*$/.test(name))
    throw new FmnError(
      `invalid backend name ${JSON.stringify(name)} (e.g. "tfjs-wasm": lower case, digits, - . _)`,
    );
  if (!Number.isFinite(priority))
    throw new FmnError(`backend ${JSON.stringify(name)}: priority must be a finite number, got ${priority}`);
  if (registry.has(name)) {
    throw new FmnError(
      `backend ${JSON.stringify(name)} is already registered (is its package loaded twice, or do two packages use one name?)`,
    );
  }
  registry.set(name, { name, factory, priority });
}

export function listBackends(): { name: string; priority: number }[] {
  return [...registry.values()]
    .sort((a, b) => b.priority - a.priority)
    .map(({ name, priority }) => ({ name, priority }));
}

/**
 * The names resolveBackend accepts, for option parsing and help: every family ("tfjs", the part
 * of a name before its first `-`) followed by its registered variants. Families come in the order
 * of their highest-priority variant, variants by priority.
 */
export function backendChoices(): string[] {
  const families = new Map<string, string[]>();
  for (const { name } of listBackends()) {
    const family = name.split('-')[0];
    const members = families.get(family) ?? [];
    if (!families.has(family)) families.set(family, members);
    if (name !== family) members.push(name);
  }
  return [...families].flatMap(([family, members]) => [family, ...members]);
}

export interface ResolvedBackend {
  backend: Backend;
  /** the candidates tried before the chosen one, and why each failed */
  failures: { name: string; reason: string }[];
}

/**
 * Resolves a backend by preference: "tfjs" matches "tfjs" and every "tfjs-*" variant. Several
 * preferences are tried in the order given, each one's matches by priority (highest first); no
 * preference tries every registered backend by priority. A preference that matches no registered
 * backend is an error listing the registered ones. When none can start, the error gives every
 * candidate's reason; on success, `failures` lists the candidates that failed before.
 */
export async function resolveBackend(preference?: string | readonly string[]): Promise<ResolvedBackend> {
  const prefs =
    preference === undefined ? [] : typeof preference === 'string' ? [preference] : [...preference];
  // Array.prototype.sort is stable: equal priorities keep their registration order
  const byPriority = [...registry.values()].sort((a, b) => b.priority - a.priority);
  const known = byPriority.map((b) => b.name).join(', ') || 'none registered';
  let candidates: Registered[];
  if (prefs.length === 0) {
    candidates = byPriority;
  } else {
    candidates = [];
    for (const p of prefs) {
      const matches = byPriority.filter((r) => r.name === p || r.name.startsWith(`${p}-`));
      if (matches.length === 0)
        throw new FmnError(`unknown backend ${JSON.stringify(p)} (registered: ${known})`);
      for (const r of matches) if (!candidates.includes(r)) candidates.push(r);
    }
  }
  if (candidates.length === 0) throw new FmnError('no backend is registered (install a backend package)');
  const failures: { name: string; reason: string }[] = [];
  for (const c of candidates) {
    try {
      c.instance ??= c.factory.init().then(checkContract);
      const backend = await c.instance;
      return { backend, failures };
    } catch (e) {
      c.instance = undefined;
      failures.push({ name: c.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new FmnError(`no backend could start: ${failures.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

function checkContract(backend: Backend): Backend {
  if (backend.contractVersion !== BACKEND_CONTRACT_VERSION) {
    throw new FmnError(
      `backend ${backend.name} implements contract version ${backend.contractVersion}, this @fmn/core has version ${BACKEND_CONTRACT_VERSION}`,
    );
  }
  return backend;
}

/** Ones of the right size for shared masks (or per-example masks when `batchSize` is given). */
export function onesMasks(layout: MaskLayout, batchSize = 1): MaskValues {
  return {
    head: new Float32Array(batchSize * layout.layers * layout.heads).fill(1),
    neuron: new Float32Array(batchSize * layout.layers * layout.intermediate).fill(1),
  };
}
