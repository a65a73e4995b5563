/**
 * The merge engine (METHOD.md section 5): opens M fine-tuned HuggingFace checkpoints (and a base
 * when the method needs one) lazily, merges every non-head tensor one at a time, and writes one
 * output HuggingFace folder per input model (merged encoder + that model's own task head) plus
 * merge-report.json, all inside one atomically created output folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import {
  adapterFor as registryAdapterFor,
  atomicDir,
  Checkpoint,
  checkOutputPath,
  FmnError,
  formatShape,
  fromFloat32,
  modelFolderName,
  readMaskFisher,
  regularFileSize,
  SafetensorsFile,
  shapeEquals,
  toFloat32,
  writeFileAtomic,
  writeSafetensors,
  type ArchitectureAdapter,
  type DType,
  type HfConfig,
  type MaskLayout,
  type MaskMapping,
  type RawTensor,
  type TensorRole,
  type TensorToWrite,
  type Weighting,
} from '@fmn/core';
import {
  applyZeroRule,
  tensorWeight,
  weightedAverage,
  type AnyWeight,
  type MaskFisherValues,
} from './weights.js';
import {
  addScaled,
  checkDropRate,
  checkTopK,
  dareDrop,
  dareRng,
  disjointMean,
  electSigns,
  MagnitudeSelector,
  sumVectors,
  trimBelow,
} from './taskvectors.js';
import { SharedTensors } from './shared.js';

export const MERGE_METHODS = [
  'fisher-nodes',
  'fisher',
  'average',
  'task-arithmetic',
  'ties',
  'dare',
] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

/** Methods built on task vectors theta_j - base: they need a base. */
const NEEDS_BASE: ReadonlySet<MergeMethod> = new Set(['task-arithmetic', 'ties', 'dare']);

/** Floor added to every full-Fisher value (METHOD.md 5.3). */
export const FULL_FISHER_FLOOR = 1e-6;

export interface MergeModelInput {
  /** HuggingFace model folder */
  readonly dir: string;
  /** mask Fisher file (fisher-nodes) or full Fisher file (fisher) */
  readonly fisher?: string;
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
  readonly method: MergeMethod;
  readonly models: readonly MergeModelInput[];
  /** pre-trained base model folder (task-arithmetic, ties, dare) */
  readonly base?: string;
  /** fisher-nodes only: `paper` (METHOD.md 5.1, default) or `block` (5.2) */
  readonly mapping?: MaskMapping;
  /** output folder: gets one subfolder per input model and merge-report.json */
  readonly out: string;
  /** replace an existing output folder */
  readonly force?: boolean;
  /** global lambda of task-arithmetic / ties / dare: theta* = base + scale * (combined task vector); default 1 */
  readonly scale?: number;
  readonly ties?: { readonly k?: number };
  readonly dare?: { readonly p?: number; readonly seed?: number; readonly ties?: boolean };
  /** write floating-point tensors in this dtype instead of each tensor's source dtype */
  readonly dtype?: 'F32' | 'F16' | 'BF16';
  readonly onProgress?: (p: MergeProgress) => void;
  readonly onWarning?: (message: string) => void;
  /** how to find the adapter of a checkpoint (default: core's adapter registry) */
  readonly adapterFor?: (config: HfConfig, dir: string) => ArchitectureAdapter;
}

export interface InputFileHash {
  readonly file: string;
  readonly sha256: string;
}

export interface MergeReport {
  readonly format: 'fmn-merge-report';
  readonly version: 1;
  readonly method: MergeMethod;
  readonly mapping: MaskMapping | null;
  readonly modelType: string;
  readonly inputs: {
    readonly dir: string;
    readonly output: string;
    readonly lambda: number;
    readonly weights: InputFileHash[];
    readonly fisher: InputFileHash | null;
    readonly taskHeadTensors: string[];
  }[];
  readonly base: { readonly dir: string; readonly weights: InputFileHash[] } | null;
  readonly lambdas: number[];
  readonly scale: number | null;
  readonly ties: { readonly k: number; readonly thresholds: number[]; readonly majoritySign: number } | null;
  readonly dare: { readonly p: number; readonly seed: number; readonly ties: boolean } | null;
  readonly fisherFloor: number | null;
  readonly zeroRule: { readonly head: number; readonly neuron: number } | null;
  readonly dtype: string;
  readonly mergedTensors: number;
  readonly shareDefinition: string;
  /** per group ("embeddings-and-shared", "layer 0", ...), then "all": share of each model, in input order */
  readonly shares: Record<string, (number | null)[]>;
}

const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['F16', 'BF16', 'F32', 'F64']);

const SHARE_WEIGHTED =
  "mean over the entries of the group's merged tensors of model j's normalised weight lambda_j W_j / sum_k lambda_k W_k (W = 1 for average); the shares of a group sum to 1";
const SHARE_TASK_VECTOR =
  "sum over the entries of the group's merged tensors of |model j's contribution to the combined task vector| (task arithmetic / dare: lambda_j tau_j after any DARE drop; ties: the trimmed, sign-agreeing lambda_j tau_j divided by the number of agreeing models), divided by the same sum over all models; null when every contribution is 0";
const SHARED_GROUP = 'embeddings-and-shared';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * float32 values of a raw tensor; an aligned little-endian F32 tensor is viewed in place, not
 * copied. Safe because SafetensorsFile.read returns a fresh buffer per call that nothing else
 * holds: the caller owns the view (the full-Fisher floor is added to it in place).
 */
function asFloat32(raw: RawTensor): Float32Array {
  const b = raw.bytes;
  if (raw.dtype === 'F32' && LITTLE_ENDIAN && b.byteOffset % 4 === 0) {
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }
  return toFloat32(raw);
}

/** Bytes of float32 values in `dtype`; F32 is a view (no copy). */
function encode(data: Float32Array, dtype: DType): Uint8Array {
  if (dtype === 'F32' && LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return fromFloat32(data, dtype);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function layoutText(l: MaskLayout): string {
  return `L=${l.layers}, H=${l.heads}, I=${l.intermediate}` + (l.headSize ? `, head size ${l.headSize}` : '');
}

function groupOf(w: Weighting): string {
  return w.kind === 'universal' ? SHARED_GROUP : `layer ${w.layer}`;
}

/** Output folder names: the input folder names, made unique with -2, -3, ... */
export function outputNames(dirs: readonly string[]): string[] {
  const used = new Set<string>();
  return dirs.map((d) => {
    const b = modelFolderName(d) || 'model'; // a hub-cache snapshot goes by its repo's name
    let name = b;
    for (let i = 2; used.has(name) || name === 'merge-report.json'; i++) name = `${b}-${i}`;
    used.add(name);
    return name;
  });
}

/** The vocabulary files compared between inputs (when both have them). */
const VOCAB_FILES = ['vocab.txt', 'vocab.json', 'merges.txt'] as const;

async function tokenizerVocabKey(dir: string, file: string): Promise<string | undefined> {
  const p = join(dir, file);
  // a FIFO or a symlink to /dev/zero under this name would make the hash below never end
  if ((await regularFileSize(p)) === undefined) return undefined;
  if (file === 'tokenizer.json') {
    try {
      const t = JSON.parse(await readFile(p, 'utf8')) as { model?: { vocab?: unknown; merges?: unknown } };
      return JSON.stringify([t.model?.vocab ?? null, t.model?.merges ?? null]);
    } catch {
      throw new FmnError('invalid JSON in tokenizer.json', p);
    }
  }
  return sha256File(p);
}

interface Opened {
  readonly ckpt: Checkpoint;
  readonly adapter: ArchitectureAdapter;
  readonly layout: MaskLayout;
}

/** Float32 values of a tensor, checked finite and non-negative (a full-Fisher tensor). */
function checkFisherValues(values: Float32Array, name: string, file: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) throw new FmnError(`Fisher tensor "${name}" has NaN at index ${i}`, file);
    if (!Number.isFinite(v))
      throw new FmnError(`Fisher tensor "${name}" has an infinite value at index ${i}`, file);
    if (v < 0) throw new FmnError(`Fisher tensor "${name}" has a negative value (${v}) at index ${i}`, file);
  }
}

type MergedTensor =
  { readonly kind: 'float'; readonly data: Float32Array } | { readonly kind: 'raw'; readonly raw: RawTensor };

/**
 * Merges the models as `options` says and writes the output folder. Returns the report (also
 * written as merge-report.json). Every input problem is an FmnError; a failure leaves no output.
 */
export async function merge(options: MergeOptions): Promise<MergeReport> {
  const method = options.method;
  if (!(MERGE_METHODS as readonly string[]).includes(method)) {
    throw new FmnError(`unknown merge method "${String(method)}" (known: ${MERGE_METHODS.join(', ')})`);
  }
  const M = options.models.length;
  if (M < 2) throw new FmnError(`a merge needs at least two models, got ${M}`);
  const needsBase = NEEDS_BASE.has(method);
  if (needsBase && !options.base)
    throw new FmnError(`method "${method}" needs a pre-trained base model (--base)`);
  if (!needsBase && options.base)
    options.onWarning?.(`method "${method}" does not use a base model; ignoring ${options.base}`);
  const mapping: MaskMapping = options.mapping ?? 'paper';
  if (mapping !== 'paper' && mapping !== 'block')
    throw new FmnError(`unknown mapping "${String(mapping)}" (paper, block)`);
  const usesFisher = method === 'fisher-nodes' || method === 'fisher';
  const weightedMethod = usesFisher || method === 'average';
  const lambdas = options.models.map((m) => m.lambda ?? 1);
  lambdas.forEach((l, j) => {
    if (!Number.isFinite(l))
      throw new FmnError(`lambda of model ${j + 1} (${options.models[j].dir}) is not a finite number`);
    if (weightedMethod && !(l > 0)) {
      throw new FmnError(
        `lambda of model ${j + 1} (${options.models[j].dir}) must be positive for "${method}", got ${l}`,
      );
    }
  });
  if (usesFisher) {
    options.models.forEach((m) => {
      if (!m.fisher)
        throw new FmnError(`method "${method}" needs a Fisher file for every model; none given`, m.dir);
    });
  }
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new FmnError(`scale must be a finite number, got ${scale}`);
  const useTies = method === 'ties' || (method === 'dare' && options.dare?.ties === true);
  const k = options.ties?.k ?? 20;
  if (useTies) checkTopK(k);
  const p = options.dare?.p ?? 0.9;
  const seed = options.dare?.seed ?? 0;
  if (method === 'dare') {
    checkDropRate(p);
    if (!Number.isInteger(seed)) throw new FmnError(`DARE seed must be an integer, got ${seed}`);
  }
  if (!options.force && (await exists(options.out))) {
    throw new FmnError('output folder already exists (use --force to replace it)', options.out);
  }
  // --force replaces the output folder: never an input, nor a folder holding one
  await checkOutputPath(
    options.out,
    [
      ...options.models.flatMap((m, i) => [
        { path: m.dir, what: `input model ${i + 1}` },
        ...(m.fisher ? [{ path: m.fisher, what: `the Fisher file of input model ${i + 1}` }] : []),
      ]),
      ...(options.base ? [{ path: options.base, what: 'the base model' }] : []),
    ],
    { kind: 'folder', force: true },
  );
  const findAdapter =
    options.adapterFor ?? ((config: HfConfig, dir: string) => registryAdapterFor(config, dir));

  const toClose: { close(): Promise<void> }[] = [];
  try {
    // --- open and check the inputs
    const open = async (dir: string): Promise<Opened> => {
      const ckpt = await Checkpoint.open(dir);
      toClose.push(ckpt);
      const adapter = findAdapter(ckpt.config, dir);
      return { ckpt, adapter, layout: adapter.maskLayout(ckpt.config) };
    };
    const models: Opened[] = [];
    for (const m of options.models) models.push(await open(m.dir));
    const base = needsBase ? await open(options.base!) : undefined;
    const all = base ? [...models, base] : models;
    const first = models[0];
    for (const o of all) {
      if (o.adapter.modelType !== first.adapter.modelType || o.ckpt.modelType !== first.ckpt.modelType) {
        throw new FmnError(
          `inputs of different architectures: ${first.ckpt.dir} is ${first.adapter.modelType}, ${o.ckpt.dir} is ${o.adapter.modelType}`,
          o.ckpt.dir,
        );
      }
      const a = first.layout;
      const b = o.layout;
      if (
        a.layers !== b.layers ||
        a.heads !== b.heads ||
        a.headSize !== b.headSize ||
        a.intermediate !== b.intermediate
      ) {
        throw new FmnError(
          `inputs of different shapes: ${first.ckpt.dir} has ${layoutText(a)}, ${o.ckpt.dir} has ${layoutText(b)}`,
          o.ckpt.dir,
        );
      }
      if (o.ckpt.config.vocab_size !== first.ckpt.config.vocab_size) {
        throw new FmnError(
          `inputs of different vocabularies: vocab_size ${String(first.ckpt.config.vocab_size)} in ${first.ckpt.dir}, ${String(o.ckpt.config.vocab_size)} in ${o.ckpt.dir}`,
          o.ckpt.dir,
        );
      }
      for (const file of [...VOCAB_FILES, 'tokenizer.json']) {
        const ka = await tokenizerVocabKey(first.ckpt.dir, file);
        const kb = ka === undefined ? undefined : await tokenizerVocabKey(o.ckpt.dir, file);
        if (ka !== undefined && kb !== undefined && ka !== kb) {
          throw new FmnError(
            `inputs of different vocabularies: the tokenizer vocabulary (${file}) differs from ${join(first.ckpt.dir, file)}`,
            join(o.ckpt.dir, file),
          );
        }
      }
    }

    // --- which tensors are merged, which are task heads. Non-floating-point tensors (buffers
    // such as embeddings.position_ids) have no merge role: they are copied, and must be equal.
    const isFloat = (c: Checkpoint, name: string): boolean => FLOAT_DTYPES.has(c.info(name).dtype);
    const config0 = first.ckpt.config;
    const roles = new Map<string, Extract<TensorRole, { taskHead: false }>>();
    const encoderNames: string[] = [];
    for (const name of first.ckpt.names()) {
      if (!isFloat(first.ckpt, name)) {
        encoderNames.push(name);
        continue;
      }
      const role = first.adapter.role(name, config0);
      if (!role.taskHead) {
        roles.set(name, role);
        encoderNames.push(name);
      }
    }
    const encoderSet = new Set(encoderNames);
    const heads: string[][] = models.map((o) =>
      o.ckpt.names().filter((n) => isFloat(o.ckpt, n) && o.adapter.role(n, o.ckpt.config).taskHead),
    );
    // A bare base model (as XModel.save_pretrained writes it) has no architecture prefix
    // ("embeddings..." for "bert.embeddings..."): its tensors are found with or without the first
    // name segment.
    const baseNames = new Map<string, string>();
    if (base) {
      const byStripped = new Map<string, string>();
      for (const n of base.ckpt.names()) byStripped.set(n.slice(n.indexOf('.') + 1), n);
      for (const name of encoderNames.filter((n) => isFloat(first.ckpt, n))) {
        const stripped = name.slice(name.indexOf('.') + 1);
        const found = base.ckpt.has(name) ? name : base.ckpt.has(stripped) ? stripped : byStripped.get(name);
        if (found === undefined) {
          throw new FmnError(`the base model has no tensor "${name}" (nor "${stripped}")`, base.ckpt.dir);
        }
        baseNames.set(name, found);
      }
    }
    for (const o of all) {
      const isBase = o === base;
      for (const name of encoderNames) {
        if (isBase && !isFloat(first.ckpt, name)) continue;
        const here = isBase ? baseNames.get(name)! : name;
        if (!o.ckpt.has(here)) {
          throw new FmnError(
            `inputs of different shapes: tensor "${name}" of ${first.ckpt.dir} is missing`,
            o.ckpt.dir,
          );
        }
        const a = first.ckpt.info(name);
        const b = o.ckpt.info(here);
        if (!shapeEquals(a.shape, b.shape)) {
          throw new FmnError(
            `inputs of different shapes: tensor "${here}" is ${formatShape(b.shape)} here but ${formatShape(a.shape)} in ${first.ckpt.dir}`,
            o.ckpt.dir,
          );
        }
        if (FLOAT_DTYPES.has(a.dtype) !== FLOAT_DTYPES.has(b.dtype)) {
          throw new FmnError(
            `tensor "${here}" is ${b.dtype} here but ${a.dtype} in ${first.ckpt.dir}`,
            o.ckpt.dir,
          );
        }
      }
      if (!isBase) {
        for (const name of o.ckpt.names()) {
          if (
            !encoderSet.has(name) &&
            !(isFloat(o.ckpt, name) && o.adapter.role(name, o.ckpt.config).taskHead)
          ) {
            throw new FmnError(
              `inputs of different shapes: tensor "${name}" is not in ${first.ckpt.dir}`,
              o.ckpt.dir,
            );
          }
        }
      }
    }

    // --- Fisher inputs
    let maskFishers: MaskFisherValues[] | undefined;
    let zeroRule: { head: number; neuron: number } | null = null;
    const fullFishers: SafetensorsFile[] = [];
    if (method === 'fisher-nodes') {
      const read: MaskFisherValues[] = [];
      for (let j = 0; j < M; j++) {
        const file = options.models[j].fisher!;
        const f = await readMaskFisher(file);
        const want = models[j].layout;
        const got = f.layout;
        if (
          got.layers !== want.layers ||
          got.heads !== want.heads ||
          got.intermediate !== want.intermediate ||
          (got.headSize !== 0 && got.headSize !== want.headSize)
        ) {
          throw new FmnError(
            `mask Fisher layout (${layoutText(got)}) differs from its model's (${layoutText(want)}, ${models[j].ckpt.dir})`,
            file,
          );
        }
        read.push({ layout: want, head: f.head, neuron: f.neuron });
      }
      const z = applyZeroRule(read);
      maskFishers = z.fishers;
      zeroRule = { ...z.zeroed };
    } else if (method === 'fisher') {
      for (let j = 0; j < M; j++) {
        const file = options.models[j].fisher!;
        const f = await SafetensorsFile.open(file);
        toClose.push(f);
        fullFishers.push(f);
        for (const name of encoderNames) {
          if (!FLOAT_DTYPES.has(first.ckpt.info(name).dtype)) continue;
          if (!f.has(name))
            throw new FmnError(`full Fisher file has no tensor for parameter "${name}"`, file);
          const shape = f.info(name).shape;
          const want = models[j].ckpt.info(name).shape;
          if (!shapeEquals(shape, want)) {
            throw new FmnError(
              `full Fisher tensor "${name}" is ${formatShape(shape)} but the parameter is ${formatShape(want)}`,
              file,
            );
          }
        }
      }
    }

    // --- hashes of the inputs
    const hashWeights = async (c: Checkpoint): Promise<InputFileHash[]> => {
      const files = [...new Set(c.names().map((n) => c.info(n).file))].sort();
      const out: InputFileHash[] = [];
      for (const file of files) out.push({ file: resolve(file), sha256: await sha256File(file) });
      return out;
    };
    const names = outputNames(options.models.map((m) => m.dir));
    const inputs: MergeReport['inputs'][number][] = [];
    for (let j = 0; j < M; j++) {
      const fisher = options.models[j].fisher;
      inputs.push({
        dir: resolve(options.models[j].dir),
        output: names[j],
        lambda: lambdas[j],
        weights: await hashWeights(models[j].ckpt),
        fisher: usesFisher && fisher ? { file: resolve(fisher), sha256: await sha256File(fisher) } : null,
        taskHeadTensors: heads[j],
      });
    }
    const baseInfo = base ? { dir: resolve(base.ckpt.dir), weights: await hashWeights(base.ckpt) } : null;

    // --- the per-tensor computation
    const floatNames = encoderNames.filter((n) => FLOAT_DTYPES.has(first.ckpt.info(n).dtype));
    const readAll = (name: string): Promise<Float32Array[]> =>
      Promise.all(models.map(async (o) => asFloat32(await o.ckpt.read(name))));
    /** lambda_j (theta_j - base), after DARE's drop and rescale when the method is dare */
    const taskVectors = async (name: string): Promise<{ taus: Float32Array[]; baseValues: Float32Array }> => {
      const baseValues = asFloat32(await base!.ckpt.read(baseNames.get(name)!));
      const thetas = await readAll(name);
      // in place: each theta array is this call's own (a fresh read), so it becomes tau
      const taus = thetas.map((t, j) => {
        for (let i = 0; i < t.length; i++) t[i] = lambdas[j] * (t[i] - baseValues[i]);
        return method === 'dare' ? dareDrop(t, p, dareRng(seed, j, name), t) : t;
      });
      return { taus, baseValues };
    };

    // TIES over the whole model: exact per-model top-k% thresholds and the majority sign.
    let thresholds: number[] = [];
    let majoritySign = 0;
    if (useTies) {
      const selectors = models.map(() => new MagnitudeSelector(k));
      const progress = (pass: number, name: string, index: number): void =>
        options.onProgress?.({ phase: 'analyse', pass, tensor: name, index, total: floatNames.length });
      for (const [index, name] of floatNames.entries()) {
        progress(1, name, index);
        const { taus } = await taskVectors(name);
        taus.forEach((t, j) => selectors[j].addFirst(t));
      }
      const second = selectors.map((s) => s.finishFirst());
      if (second.some(Boolean)) {
        for (const [index, name] of floatNames.entries()) {
          progress(2, name, index);
          const { taus } = await taskVectors(name);
          taus.forEach((t, j) => {
            if (second[j]) selectors[j].addSecond(t);
          });
        }
      }
      thresholds = selectors.map((s) => s.threshold());
      let signTotal = 0;
      for (const [index, name] of floatNames.entries()) {
        progress(3, name, index);
        const { taus } = await taskVectors(name);
        const trimmed = taus.map((t, j) => trimBelow(t, thresholds[j], t));
        const n = trimmed[0].length;
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (const t of trimmed) s += t[i];
          signTotal += Math.sign(s);
        }
      }
      majoritySign = Math.sign(signTotal);
    }

    const groups = new Map<string, { sums: Float64Array; entries: number }>();
    const account = (name: string, sums: Float64Array, entries: number): void => {
      const g = groupOf(roles.get(name)!.paper);
      let acc = groups.get(g);
      if (!acc) groups.set(g, (acc = { sums: new Float64Array(M), entries: 0 }));
      for (let j = 0; j < M; j++) acc.sums[j] += sums[j];
      acc.entries += entries;
    };

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
      const shape = info.shape;
      const role = roles.get(name)!;
      if (weightedMethod) {
        const thetas = await readAll(name);
        let weights: AnyWeight[];
        if (method === 'average') weights = models.map(() => ({ kind: 'scalar', value: 1 }));
        else if (method === 'fisher-nodes') {
          weights = maskFishers!.map((f) => tensorWeight(f, role[mapping], shape, name));
        } else {
          weights = await Promise.all(
            fullFishers.map(async (f) => {
              const values = asFloat32(await f.read(name));
              checkFisherValues(values, name, f.path);
              for (let i = 0; i < values.length; i++) values[i] += FULL_FISHER_FLOOR;
              return { kind: 'full' as const, values };
            }),
          );
        }
        const { merged, shareSums } = weightedAverage(thetas, weights, lambdas, shape, name);
        account(name, shareSums, merged.length);
        return { kind: 'float', data: merged };
      }
      const { taus, baseValues } = await taskVectors(name);
      const contrib = new Float64Array(M);
      let combined: Float32Array;
      if (useTies) {
        const trimmed = taus.map((t, j) => trimBelow(t, thresholds[j], t));
        combined = disjointMean(trimmed, electSigns(trimmed, majoritySign), contrib);
      } else {
        combined = sumVectors(taus, contrib);
      }
      account(name, contrib, combined.length);
      return { kind: 'float', data: addScaled(baseValues, combined, scale, combined) };
    };

    // --- write the outputs
    const shared = new SharedTensors<MergedTensor>(M, computeTensor);
    let report: MergeReport | undefined;
    await atomicDir(
      options.out,
      async (tmp) => {
        const writeOne = async (o: Opened, j: number): Promise<void> => {
          const dir = join(tmp, names[j]);
          await mkdir(dir);
          await copyFile(join(o.ckpt.dir, 'config.json'), join(dir, 'config.json'));
          for (const f of await o.ckpt.tokenizerFiles()) await copyFile(join(o.ckpt.dir, f), join(dir, f));
          const outDType = (d: DType): DType => (options.dtype && FLOAT_DTYPES.has(d) ? options.dtype : d);
          const tensors: TensorToWrite[] = encoderNames.map((name, index) => {
            const dtype = outDType(o.ckpt.info(name).dtype);
            return {
              name,
              dtype,
              shape: o.ckpt.info(name).shape,
              data: async () => {
                const m = await shared.take(index);
                return m.kind === 'raw' ? m.raw.bytes : encode(m.data, dtype);
              },
            };
          });
          for (const name of heads[j]) {
            const info = o.ckpt.info(name);
            const dtype = outDType(info.dtype);
            tensors.push({
              name,
              dtype,
              shape: info.shape,
              data: async () => {
                const raw = await o.ckpt.read(name);
                return dtype === raw.dtype ? raw.bytes : fromFloat32(toFloat32(raw), dtype);
              },
            });
          }
          await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', merged_by: 'fmn' });
        };
        // A writer that fails stops taking tensors: the others must not wait for it.
        const writes = models.map((o, j) =>
          writeOne(o, j).catch((e: unknown) => {
            shared.fail(e);
            throw e;
          }),
        );
        const settled = await Promise.allSettled(writes);
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;

        const weighted = weightedMethod;
        const shareOf = (sums: Float64Array, entries: number): (number | null)[] => {
          if (weighted) return [...sums].map((s) => (entries > 0 ? s / entries : null));
          const total = sums.reduce((a, b) => a + b, 0);
          return [...sums].map((s) => (total > 0 ? s / total : null));
        };
        const keys = [...groups.keys()].sort((a, b) => {
          const la = a === SHARED_GROUP ? -1 : Number(a.slice(6));
          const lb = b === SHARED_GROUP ? -1 : Number(b.slice(6));
          return la - lb;
        });
        const shares: Record<string, (number | null)[]> = {};
        const allSums = new Float64Array(M);
        let allEntries = 0;
        for (const key of keys) {
          const g = groups.get(key)!;
          shares[key] = shareOf(g.sums, g.entries);
          for (let j = 0; j < M; j++) allSums[j] += g.sums[j];
          allEntries += g.entries;
        }
        shares.all = shareOf(allSums, allEntries);
        report = {
          format: 'fmn-merge-report',
          version: 1,
          method,
          mapping: method === 'fisher-nodes' ? mapping : null,
          modelType: first.adapter.modelType,
          inputs,
          base: baseInfo,
          lambdas,
          scale: needsBase ? scale : null,
          ties: useTies ? { k, thresholds, majoritySign } : null,
          dare: method === 'dare' ? { p, seed, ties: useTies } : null,
          fisherFloor: method === 'fisher' ? FULL_FISHER_FLOOR : null,
          zeroRule,
          dtype: options.dtype ?? 'source',
          mergedTensors: encoderNames.length,
          shareDefinition: weighted ? SHARE_WEIGHTED : SHARE_TASK_VECTOR,
          shares,
        };
        await writeFileAtomic(join(tmp, 'merge-report.json'), JSON.stringify(report, null, 2) + '\n');
      },
      { force: options.force },
    );
    return report!;
  } finally {
    await Promise.all(toClose.map((c) => c.close().catch(() => undefined)));
  }
}
