/**
 * The merge engine (METHOD.md section 5): opens M fine-tuned HuggingFace checkpoints (and a base
 * when the method needs one) lazily, merges every non-head tensor one at a time with the method's
 * spec (./methods), and writes one output HuggingFace folder per input model (merged encoder +
 * that model's own task head) plus merge-report.json, all inside one atomically created output
 * folder. The engine knows no method by name: what a method needs, its options, its per-tensor
 * merge and its report fields come from the registry. A method that merges by rows (its spec's
 * `mergeRows`) gets a large tensor a block of rows at a time (`rowBlockBytes` per model), and the
 * writers write each block as it comes: the peak then holds a few blocks, not M whole tensors.
 */
import { join, resolve } from 'node:path';
import {
  pathExists,
  atomicDir,
  checkOutputPath,
  FmnError,
  numel,
  rowChunks,
  rowSize,
  writeFileAtomic,
  type RowRange,
  type ArchitectureAdapter,
  type HfConfig,
  hashWeightFiles,
  type FullFisherFile,
} from '@fmn/core';
import { sha256File } from './compatibility.js';
import { checkGramRecords, openFullFishers, readMaskFishers, type RecordCheck } from './fisher-inputs.js';
import { asFloat32, FLOAT_DTYPES } from './float.js';
import { openInputs } from './inputs.js';
import { resolveOptions } from './methods/options.js';
import { mergeMethod } from './methods/registry.js';
import type { MethodContext } from './methods/spec.js';
import { buildReport, ShareGroups, type MergeReport } from './report.js';
import { SharedTensors } from './shared.js';
import { outputNames, writeModels, type MergedTensor } from './write.js';
import type { MaskFisherValues } from './weights.js';

/** A registered merge method's name (see mergeMethodNames()). */
export type MergeMethod = string;

export interface MergeModelInput {
  /** HuggingFace model folder */
  readonly dir: string;
  /** mask Fisher file (a method needing the mask Fisher) or full Fisher file (one needing the full Fisher) */
  readonly fisher?: string;
  /** Gram file (a method needing Gram matrices) */
  readonly gram?: string;
  /** per-model coefficient lambda_j (default 1) */
  readonly lambda?: number;
}

export interface MergeProgress {
  readonly phase: 'analyse' | 'merge';
  /** pass number within the phase (TIES analysis takes up to 3) */
  readonly pass?: number;
  readonly tensor: string;
  readonly index: number;
  readonly total: number;
}

export interface MergeOptions {
  /** a registered merge method (mergeMethodNames()) */
  readonly method: MergeMethod;
  readonly models: readonly MergeModelInput[];
  /** pre-trained base model folder (methods that need one: task-arithmetic, ties, dare) */
  readonly base?: string;
  /**
   * the method's options by key (its spec's `options`; e.g. fisher-nodes `mapping`, ties `k`,
   * dare `p`, `seed`, `ties`, the task-vector methods' `scale`); missing ones take their defaults
   */
  readonly options?: Readonly<Record<string, unknown>>;
  /** output folder: gets one subfolder per input model and merge-report.json */
  readonly out: string;
  /** replace an existing output folder */
  readonly force?: boolean;
  /** write floating-point tensors in this dtype instead of each tensor's source dtype */
  readonly dtype?: 'F32' | 'F16' | 'BF16';
  readonly onProgress?: (p: MergeProgress) => void;
  readonly onWarning?: (message: string) => void;
  /**
   * merge even when a Fisher file's recorded model (model type, weights hash) is not the model it
   * is given for (a warning instead of an error)
   */
  readonly allowFisherMismatch?: boolean;
  /** how to find the adapter of a checkpoint (default: core's adapter registry) */
  readonly adapterFor?: (config: HfConfig, dir: string) => ArchitectureAdapter;
  /**
   * the largest block of rows of a tensor read from each model at a time, in float32 bytes (default
   * DEFAULT_ROW_BLOCK_BYTES), when the method merges by rows (and in TIES' analysis passes). The
   * result does not depend on it; tests set it small to cut the fixtures' tensors into blocks.
   */
  readonly rowBlockBytes?: number;
}

/**
 * 4 MiB of float32 per model: BERT's word embeddings (89 MiB) are read in 23 blocks. The peak grows
 * by about two blocks per model (BENCHMARKS.md section 3: 16 MiB blocks cost 150 MiB more at 7
 * models, for no speed), so blocks are kept small; reading 4 MiB at a time costs nothing measurable.
 */
export const DEFAULT_ROW_BLOCK_BYTES = 4 * 2 ** 20;

/** One unit the writers take in order: a whole tensor, or a block of rows of one. */
interface Piece {
  readonly index: number;
  /** the block of rows (a method merging by rows); none: the whole tensor */
  readonly rows?: RowRange;
  readonly last: boolean;
}

/**
 * Merges the models as `options` says and writes the output folder. Returns the report (also
 * written as merge-report.json). Every input problem is an FmnError; a failure leaves no output.
 */
export async function merge(options: MergeOptions): Promise<MergeReport> {
  const spec = mergeMethod(options.method);
  const method = spec.name;
  const needs = spec.needs;
  const warn = (m: string): void => options.onWarning?.(m);
  const M = options.models.length;
  if (M < 2) throw new FmnError(`a merge needs at least two models, got ${M}`);
  const needsBase = needs.base === true;
  if (needsBase && !options.base)
    throw new FmnError(`method "${method}" needs a pre-trained base model (--base)`);
  if (!needsBase && options.base)
    warn(`method "${method}" does not use a base model; ignoring ${options.base}`);
  if (needs.data) {
    throw new FmnError(`method "${method}" needs data, which merge() does not take (it runs no model)`);
  }
  const lambdas = options.models.map((m) => m.lambda ?? 1);
  lambdas.forEach((l, j) => {
    if (!Number.isFinite(l))
      throw new FmnError(`lambda of model ${j + 1} (${options.models[j].dir}) is not a finite number`);
    if (spec.positiveLambdas && !(l >= 0)) {
      throw new FmnError(
        `lambda of model ${j + 1} (${options.models[j].dir}) must be positive (or 0: left out) for "${method}", got ${l}`,
      );
    }
  });
  // a weighted average needs a model to average: lambda 0 leaves a model out (its head is kept)
  if (spec.positiveLambdas && !lambdas.some((l) => l > 0))
    throw new FmnError(`method "${method}" needs at least one positive lambda, got ${lambdas.join(', ')}`);
  const usesFisher = needs.maskFisher === true || needs.fullFisher === true;
  for (const m of options.models) {
    if (usesFisher && !m.fisher)
      throw new FmnError(`method "${method}" needs a Fisher file for every model; none given`, m.dir);
    if (needs.gram && !m.gram)
      throw new FmnError(`method "${method}" needs a Gram file for every model; none given`, m.dir);
  }
  const methodOptions = resolveOptions(spec, options.options, warn);
  const blockBytes = options.rowBlockBytes ?? DEFAULT_ROW_BLOCK_BYTES;
  if (!(Number.isFinite(blockBytes) && blockBytes > 0))
    throw new FmnError(`rowBlockBytes must be a positive number, got ${blockBytes}`);
  const blockElements = Math.max(1, Math.floor(blockBytes / 4));
  if (!options.force && (await pathExists(options.out))) {
    throw new FmnError('output folder already exists (use --force to replace it)', options.out);
  }
  // --force replaces the output folder: never an input, nor a folder holding one
  await checkOutputPath(
    options.out,
    [
      ...options.models.flatMap((m, i) => [
        { path: m.dir, what: `input model ${i + 1}` },
        ...(m.fisher ? [{ path: m.fisher, what: `the Fisher file of input model ${i + 1}` }] : []),
        ...(m.gram ? [{ path: m.gram, what: `the Gram file of input model ${i + 1}` }] : []),
      ]),
      ...(options.base ? [{ path: options.base, what: 'the base model' }] : []),
    ],
    { kind: 'folder', force: true },
  );

  const toClose: { close(): Promise<void> }[] = [];
  try {
    const inputs = await openInputs(
      options.models.map((m) => m.dir),
      needsBase ? options.base : undefined,
      options.adapterFor,
      toClose,
    );
    const { models, base, first, encoderNames, floatNames, roles, heads, baseNames } = inputs;

    // --- hashes of the weights (for the report and the Fisher files' model records)
    const weights = [];
    for (const o of models) weights.push(await hashWeightFiles(o.ckpt));

    // --- Fisher inputs
    const fisherFiles = options.models.map((m) => m.fisher!);
    const check: RecordCheck = { weights, allowMismatch: options.allowFisherMismatch === true, warn };
    const maskFishers: MaskFisherValues[] = needs.maskFisher
      ? await readMaskFishers(fisherFiles, models, check)
      : [];
    const fullFishers: FullFisherFile[] = needs.fullFisher
      ? await openFullFishers(fisherFiles, models, floatNames, toClose, check)
      : [];
    const gramFiles = needs.gram ? options.models.map((m) => m.gram!) : [];
    await checkGramRecords(gramFiles, models, check);

    // --- the report's inputs
    const names = outputNames(options.models.map((m) => m.dir));
    const reportInputs: MergeReport['inputs'][number][] = [];
    for (let j = 0; j < M; j++) {
      const fisher = options.models[j].fisher;
      reportInputs.push({
        dir: resolve(options.models[j].dir),
        output: names[j],
        lambda: lambdas[j],
        weights: weights[j],
        fisher: usesFisher && fisher ? { file: resolve(fisher), sha256: await sha256File(fisher) } : null,
        taskHeadTensors: heads[j],
      });
    }
    const baseInfo = base ? { dir: resolve(base.ckpt.dir), weights: await hashWeightFiles(base.ckpt) } : null;

    // --- what the method sees
    const ctx: MethodContext = {
      models: M,
      lambdas,
      options: methodOptions,
      tensors: floatNames,
      maskFishers,
      fisherFiles: usesFisher ? fisherFiles : [],
      gramFiles,
      thetas: (name, rows) =>
        Promise.all(
          models.map(async (o) => asFloat32(await (rows ? o.ckpt.readRows(name, rows) : o.ckpt.read(name)))),
        ),
      base: async (name, rows) => {
        if (!base) throw new Error(`merge method "${method}" reads the base but does not declare needs.base`);
        const stored = baseNames.get(name)!;
        return asFloat32(await (rows ? base.ckpt.readRows(stored, rows) : base.ckpt.read(stored)));
      },
      rowBlocks: (name) => rowChunks(first.ckpt.info(name).shape, blockElements),
      fullFishers: (name, rows) => {
        if (!needs.fullFisher)
          throw new Error(
            `merge method "${method}" reads full Fishers but does not declare needs.fullFisher`,
          );
        return Promise.all(fullFishers.map((f) => f.read(name, rows)));
      },
      progress: (pass, name, index) =>
        options.onProgress?.({ phase: 'analyse', pass, tensor: name, index, total: floatNames.length }),
      warn,
    };
    const state: unknown = spec.prepare ? await spec.prepare(ctx) : undefined;

    const groups = new ShareGroups(M);
    const computeTensor = async (index: number): Promise<MergedTensor> => {
      const name = encoderNames[index];
      options.onProgress?.({ phase: 'merge', tensor: name, index, total: encoderNames.length });
      const info = first.ckpt.info(name);
      if (!FLOAT_DTYPES.has(info.dtype)) {
        const raws = await Promise.all(models.map((o) => o.ckpt.read(name)));
        for (let j = 1; j < M; j++) {
          if (
            raws[j].dtype !== raws[0].dtype ||
            !Buffer.from(raws[j].bytes).equals(Buffer.from(raws[0].bytes))
          ) {
            throw new FmnError(
              `non-floating-point tensor "${name}" (${info.dtype}) differs from ${first.ckpt.dir}; it cannot be averaged`,
              models[j].ckpt.dir,
            );
          }
        }
        return { kind: 'raw', raw: raws[0] };
      }
      const role = roles.get(name)!;
      const r = await spec.mergeTensor(ctx, { name, shape: info.shape, role }, state);
      if (r.merged.length !== numel(info.shape) || r.shares.length !== M) {
        throw new Error(
          `merge method "${method}" returned ${r.merged.length} values for "${name}" (${numel(info.shape)} expected) and ${r.shares.length} shares (${M})`,
        );
      }
      groups.add(role.paper, r.shares, r.merged.length);
      return { kind: 'float', data: r.merged };
    };

    // --- the pieces the writers take: a method merging by rows gets a float tensor block by block
    const pieces: Piece[] = [];
    const firstPiece: number[] = [];
    for (const [index, name] of encoderNames.entries()) {
      firstPiece.push(pieces.length);
      const info = first.ckpt.info(name);
      const blocks =
        spec.mergeRows && FLOAT_DTYPES.has(info.dtype) ? rowChunks(info.shape, blockElements) : [undefined];
      blocks.forEach((rows, b) => pieces.push({ index, rows, last: b === blocks.length - 1 }));
    }
    firstPiece.push(pieces.length);
    let current: { shares: Float64Array; scratch: Map<string, unknown> } | undefined;
    const computePiece = async (p: number): Promise<MergedTensor> => {
      const { index, rows, last } = pieces[p];
      if (!rows || !spec.mergeRows) return computeTensor(index);
      const name = encoderNames[index];
      const shape = first.ckpt.info(name).shape;
      const role = roles.get(name)!;
      if (p === firstPiece[index]) {
        options.onProgress?.({ phase: 'merge', tensor: name, index, total: encoderNames.length });
        current = { shares: new Float64Array(M), scratch: new Map() };
      }
      const { shares, scratch } = current!;
      const merged = await spec.mergeRows(ctx, { name, shape, role, rows, shares, scratch }, state);
      const expected = (rows.end - rows.start) * rowSize(shape);
      if (merged.length !== expected) {
        throw new Error(
          `merge method "${method}" returned ${merged.length} values for rows ${rows.start}..${rows.end} of "${name}" (${expected} expected)`,
        );
      }
      if (last) groups.add(role.paper, shares, numel(shape));
      return { kind: 'float', data: merged };
    };

    // --- write the outputs
    const shared = new SharedTensors<MergedTensor>(M, computePiece);
    let report: MergeReport | undefined;
    await atomicDir(
      options.out,
      async (tmp) => {
        await writeModels(tmp, models, names, encoderNames, firstPiece, heads, shared, options.dtype);
        report = buildReport({
          method,
          modelType: first.adapter.modelType,
          inputs: reportInputs,
          base: baseInfo,
          lambdas,
          methodFields: spec.report(ctx, state),
          dtype: options.dtype ?? 'source',
          mergedTensors: encoderNames.length,
          shareDefinition: spec.shares.definition,
          shares: groups.shares(spec.shares),
        });
        await writeFileAtomic(join(tmp, 'merge-report.json'), JSON.stringify(report, null, 2) + '\n');
      },
      { force: options.force },
    );
    return report!;
  } finally {
    await Promise.all(toClose.map((c) => c.close().catch(() => undefined)));
  }
}
