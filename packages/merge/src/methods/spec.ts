/**
 * What a merge method is (docs/adding-a-merge-method.md): a spec with its name, what it needs, its
 * options (defaults, validation, CLI flag and help), an optional whole-model `prepare` pass, the
 * per-tensor merge and its report fields. The engine (../merge.ts) calls these and knows no method
 * by name; ./registry.ts collects the specs.
 */
import type { MaskMapping, RowRange, TensorRole } from '@fmn/core';
import type { MaskFisherValues } from '../weights.js';

/** What a method needs besides the fine-tuned models. */
export interface MergeNeeds {
  /** the pre-trained base model (task vectors theta_j - base) */
  readonly base?: boolean;
  /** one mask Fisher file per model (`fmn fisher`) */
  readonly maskFisher?: boolean;
  /** one full diagonal Fisher file per model (`fmn fisher --full`) */
  readonly fullFisher?: boolean;
  /** one Gram file per model (input Gram matrices of the linear layers, for RegMean) */
  readonly gram?: boolean;
  /** data (the engine runs no model: a method needing data gets it from its caller) */
  readonly data?: boolean;
}

export type OptionValue = number | boolean | string;
export type MethodOptions = Readonly<Record<string, OptionValue>>;

/** One option of a method: its key in MergeOptions.options, type, default, validation, CLI flag and help. */
export interface MethodOption {
  /** key in `MergeOptions.options` (and the default run-configuration key) */
  readonly key: string;
  /** `number` and `integer` are numbers (an integer is checked by `validate`); `choice` is one of `choices` */
  readonly type: 'number' | 'integer' | 'boolean' | 'choice';
  readonly choices?: readonly string[];
  readonly default: OptionValue;
  /** the help text (CLI and docs) */
  readonly help: string;
  /** the CLI flag (`--ties-k`); several methods may share a flag when they share the key. None: API only */
  readonly flag?: string;
  /** the key in a run configuration's method mapping (default: `key`); null: not settable there */
  readonly configKey?: string | null;
  /** throws an FmnError for a bad value (after the type check) */
  readonly validate?: (value: OptionValue) => void;
}

/** A merged (non-head, floating-point) tensor. */
export interface TensorToMerge {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: Extract<TensorRole, { taskHead: false }>;
}

/**
 * One block of rows of a merged tensor (core's RowRange: rows are indices of the first dimension),
 * for a method that merges a tensor block by block (`mergeRows`).
 */
export interface TensorRows extends TensorToMerge {
  readonly rows: RowRange;
  /**
   * the tensor's per-model share sums (see TensorResult.shares): zeros at the tensor's first block,
   * then carried from block to block; the method adds each block's entries into it
   */
  readonly shares: Float64Array;
  /** what a method keeps from one block of the tensor to the next (DARE: its generators); new per tensor */
  readonly scratch: Map<string, unknown>;
}

/** What the engine gives a method: the inputs, read tensor by tensor. */
export interface MethodContext {
  /** number of fine-tuned models (M) */
  readonly models: number;
  /** lambda_j per model */
  readonly lambdas: readonly number[];
  /** the method's options, defaults filled in and validated */
  readonly options: MethodOptions;
  /** the merged floating-point tensors' names, in file order (what `prepare` passes over) */
  readonly tensors: readonly string[];
  /** the mask Fishers, as read and checked against their models (needs.maskFisher; else empty) */
  readonly maskFishers: readonly MaskFisherValues[];
  /** the Fisher files' paths, per model (needs.maskFisher or needs.fullFisher; else empty), for messages */
  readonly fisherFiles: readonly string[];
  /** the Gram files' paths (needs.gram; else empty) */
  readonly gramFiles: readonly string[];
  /**
   * every model's values of a tensor as float32 (only rows `rows` when given): fresh arrays the
   * method may overwrite
   */
  thetas(name: string, rows?: RowRange): Promise<Float32Array[]>;
  /** the base model's values of a tensor (only rows `rows` when given; needs.base): a fresh array */
  base(name: string, rows?: RowRange): Promise<Float32Array>;
  /**
   * the blocks of rows the engine cuts tensor `name` into (in order; one block for a small tensor):
   * what a whole-model pass of `prepare` reads at a time to keep memory as low as the merge's
   */
  rowBlocks(name: string): readonly RowRange[];
  /**
   * every model's full-Fisher values of a tensor (only rows `rows` when given), checked finite and
   * non-negative (needs.fullFisher): fresh arrays
   */
  fullFishers(name: string, rows?: RowRange): Promise<Float32Array[]>;
  /** reports progress of a whole-model pass of `prepare` (pass 1, 2, ...) */
  progress(pass: number, name: string, index: number): void;
  /** a warning for the user */
  warn(message: string): void;
}

/** One merged tensor, and each model's share of it (summed over its entries, see ShareRule). */
export interface TensorResult {
  readonly merged: Float32Array;
  /** per model: sum over entries of its normalised weight, or of |its contribution| */
  readonly shares: Float64Array;
}

/**
 * How the report's shares are formed from the per-tensor `shares` sums: `mean` divides a group's
 * sums by its number of entries (weights that sum to 1 per entry), `fraction` by their total
 * (null when it is 0).
 */
export interface ShareRule {
  readonly kind: 'mean' | 'fraction';
  /** merge-report.json's shareDefinition */
  readonly definition: string;
}

export interface MergeMethodSpec<State = unknown> {
  /** the `--method` name */
  readonly name: string;
  /** one line for `fmn merge --help` and the docs */
  readonly description: string;
  readonly needs: MergeNeeds;
  readonly options: readonly MethodOption[];
  /**
   * weighted averages: every lambda_j must be >= 0 and one > 0; lambda_j = 0 leaves model j out of
   * the encoder's merge (its rules, e.g. fisher-nodes' zero rule, run over the other models)
   */
  readonly positiveLambdas?: boolean;
  /**
   * what `--search` (docs/method.md §5.6) searches: `scale`, the option `scale` over 0.1 .. 1.5;
   * `lambdas`, the per-model lambda_j (a grid for 2 models, Dirichlet samples for more). None: no search
   */
  readonly search?: 'scale' | 'lambdas';
  readonly shares: ShareRule;
  /** the label of a run-configuration entry with these options (default: the name) */
  label?(options: MethodOptions): string;
  /** checks between options (each option's own `validate` has run) */
  validate?(options: MethodOptions): void;
  /** a whole-model pass before merging (TIES: thresholds and majority sign); its result is `state` */
  prepare?(ctx: MethodContext): Promise<State>;
  /** merges one tensor */
  mergeTensor(ctx: MethodContext, tensor: TensorToMerge, state: State): Promise<TensorResult>;
  /**
   * Merges one block of rows of a tensor (returns that block's merged values), for a method whose
   * merged entry depends only on the same entry of its inputs and on `state` (plus what it carries
   * in `tensor.scratch` from the tensor's earlier blocks, which come in order): the engine then
   * reads, merges and writes a large tensor a block at a time, and prefers this to `mergeTensor`.
   * It must give exactly the values and shares of `mergeTensor` (`mergeTensorByRows` derives one
   * from the other). A method needing the whole tensor (a per-tensor top-k, a matrix solve) leaves
   * it out.
   */
  mergeRows?(ctx: MethodContext, tensor: TensorRows, state: State): Promise<Float32Array>;
  /**
   * The method's fields of merge-report.json (fields of report version 1 it leaves out are null;
   * a field not in version 1 goes before `dtype`).
   */
  report(ctx: MethodContext, state: State): Record<string, unknown>;
}

/** The option value of `key` as a number (resolved options hold every declared key). */
export function numberOption(o: MethodOptions, key: string): number {
  return o[key] as number;
}

export function booleanOption(o: MethodOptions, key: string): boolean {
  return o[key] === true;
}

export function mappingOption(o: MethodOptions): MaskMapping {
  return o.mapping as MaskMapping;
}

/** `mergeTensor` as one block of all rows through `mergeRows`. */
export function mergeTensorByRows<State>(
  mergeRows: (ctx: MethodContext, tensor: TensorRows, state: State) => Promise<Float32Array>,
): (ctx: MethodContext, tensor: TensorToMerge, state: State) => Promise<TensorResult> {
  return async (ctx, tensor, state) => {
    const shares = new Float64Array(ctx.models);
    const rows = { start: 0, end: tensor.shape.length === 0 ? 1 : tensor.shape[0] };
    const merged = await mergeRows(ctx, { ...tensor, rows, shares, scratch: new Map() }, state);
    return { merged, shares };
  };
}
