import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { getAdapter, listAdapters } from './adapter.js';
import { regularFileSize } from './regular-file.js';
import { FmnError } from './errors.js';
import { firstNonFinite } from './finite.js';
import { checkRowRange, rowSize, rowsShape, type RowRange } from './rows.js';
import { SafetensorsFile, type TensorInfo } from './safetensors.js';
import { DTYPE_SIZE } from './tensor.js';
import type { RawTensor } from './tensor.js';
import { toFloat32 } from './tensor.js';
import { TorchFile } from './torch/torch-file.js';

/** A HuggingFace config.json, as parsed. */
export type HfConfig = Record<string, unknown> & { model_type?: string };

/**
 * Files HuggingFace keeps beside the weights for tokenization whatever the architecture: the
 * tokenizers-library and tokenizer config files, the vocabulary formats @fmn/data reads (WordPiece
 * vocab.txt, byte-level BPE vocab.json + merges.txt) and the sentencepiece model of XLM-RoBERTa-
 * style tokenizers. A registered adapter adds its own (`tokenizer.files`); see `tokenizerFileNames`.
 */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'sentencepiece.bpe.model',
] as const;

/** The tokenizer files copied along with a model: `TOKENIZER_FILES` and the registered adapters' own. */
export function tokenizerFileNames(): string[] {
  const names = new Set<string>(TOKENIZER_FILES);
  for (const a of listAdapters()) for (const f of a.tokenizer?.files ?? []) names.add(f);
  return [...names];
}

export interface CheckpointTensorInfo extends TensorInfo {
  readonly file: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function readJsonFile<T = unknown>(path: string, what = 'JSON file'): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FmnError(code === 'ENOENT' ? `${what} not found` : `cannot read ${what} (${code})`, path);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new FmnError(`invalid JSON in ${what}: ${(e as Error).message}`, path);
  }
}

/** One weights file, safetensors or PyTorch: tensors listed at open, each read on demand. */
export interface WeightsFile {
  readonly path: string;
  readonly bytesRead: number;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): Promise<RawTensor>;
  /** rows [start, end) of a tensor, read alone (files that cannot: Checkpoint reads the whole tensor) */
  readRows?(name: string, rows: RowRange): Promise<RawTensor>;
  close(): Promise<void>;
}

type Opener = (path: string) => Promise<WeightsFile>;

const openSafetensors: Opener = (p) => SafetensorsFile.open(p);
const openTorch: Opener = (p) => TorchFile.open(p);

/**
 * The weights of a model folder, in the order HuggingFace prefers them: model.safetensors, its
 * sharded index, pytorch_model.bin, its sharded index.
 */
async function findWeights(dir: string): Promise<{ kind: 'single' | 'index'; path: string; open: Opener }> {
  const candidates: [string, 'single' | 'index', Opener][] = [
    ['model.safetensors', 'single', openSafetensors],
    ['model.safetensors.index.json', 'index', openSafetensors],
    ['pytorch_model.bin', 'single', openTorch],
    ['pytorch_model.bin.index.json', 'index', openTorch],
  ];
  for (const [name, kind, open] of candidates) {
    const path = join(dir, name);
    if (await isFile(path)) return { kind, path, open };
  }
  throw new FmnError(
    'no weights found (expected model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)',
    dir,
  );
}

/** Opens the shards a weight_map index lists, checking that each shard holds what it is said to. */
async function openShards(
  dir: string,
  index: string,
  openFile: Opener,
  files: WeightsFile[],
  owner: Map<string, WeightsFile>,
): Promise<void> {
  const what = index.endsWith('.safetensors.index.json') ? 'safetensors index' : 'pytorch_model.bin index';
  const idx = await readJsonFile<{ weight_map?: Record<string, string> }>(index, what);
  const map = typeof idx === 'object' && idx !== null ? idx.weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new FmnError('index has no "weight_map" object', index);
  }
  if (Object.keys(map).length === 0) throw new FmnError('index "weight_map" lists no tensors', index);
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '') {
      throw new FmnError(`index maps "${name}" to ${JSON.stringify(shard)}, not a file name`, index);
    }
    if (isAbsolute(shard) || normalize(shard).split(/[\\/]/)[0] === '..') {
      throw new FmnError(`index maps "${name}" to "${shard}", outside the model folder`, index);
    }
  }
  const byShard = new Map<string, WeightsFile>();
  for (const shard of new Set(Object.values(map))) {
    const p = join(dir, shard);
    if (!(await isFile(p))) throw new FmnError(`missing shard "${shard}" listed in ${index}`, p);
    const f = await openFile(p);
    files.push(f);
    byShard.set(shard, f);
  }
  for (const [name, shard] of Object.entries(map)) {
    const f = byShard.get(shard)!;
    if (!f.has(name))
      throw new FmnError(`tensor "${name}" is listed in the index but not in this shard`, f.path);
    owner.set(name, f);
  }
}

/**
 * Checkpoints written before transformers named LayerNorm parameters `weight` and `bias` call them
 * `gamma` and `beta` (`LayerNorm.gamma`); transformers renames them when it loads, and so does fmn.
 */
function modernNames(owner: Map<string, WeightsFile>): {
  names: Map<string, WeightsFile>;
  stored: Map<string, string>;
} {
  const names = new Map<string, WeightsFile>();
  const stored = new Map<string, string>();
  for (const [name, f] of owner) {
    const m = /^(.*LayerNorm)\.(gamma|beta)$/.exec(name);
    const modern = m ? `${m[1]}.${m[2] === 'gamma' ? 'weight' : 'bias'}` : name;
    if (modern !== name && !owner.has(modern)) {
      names.set(modern, f);
      stored.set(modern, name);
    } else {
      names.set(name, f);
    }
  }
  return { names, stored };
}

/**
 * A HuggingFace model folder: config.json plus model.safetensors (or sharded safetensors with
 * model.safetensors.index.json), or PyTorch's pytorch_model.bin (or its shards with
 * pytorch_model.bin.index.json), read by fmn's safe reader. Tensors are read lazily, one at a time.
 */
export class Checkpoint {
  private constructor(
    readonly dir: string,
    readonly config: HfConfig,
    private readonly files: WeightsFile[],
    private readonly owner: Map<string, WeightsFile>,
    /** name -> the name it is stored under, for the LayerNorm names older checkpoints use */
    private readonly stored: Map<string, string>,
  ) {}

  static async open(dir: string): Promise<Checkpoint> {
    let st;
    try {
      st = await stat(dir);
    } catch {
      throw new FmnError('model folder not found', dir);
    }
    if (!st.isDirectory()) throw new FmnError('not a folder (expected a HuggingFace model folder)', dir);
    const configPath = join(dir, 'config.json');
    if (!(await isFile(configPath))) throw new FmnError('config.json not found in the model folder', dir);
    const config = await readJsonFile<HfConfig>(configPath, 'config.json');
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new FmnError('config.json is not a JSON object', configPath);
    }
    const files: WeightsFile[] = [];
    const owner = new Map<string, WeightsFile>();
    try {
      const layout = await findWeights(dir);
      if (layout.kind === 'single') {
        const f = await layout.open(layout.path);
        files.push(f);
        for (const n of f.names()) owner.set(n, f);
      } else {
        await openShards(dir, layout.path, layout.open, files, owner);
      }
    } catch (e) {
      await Promise.all(files.map((f) => f.close()));
      throw e;
    }
    const { names, stored } = modernNames(owner);
    const checkpoint = new Checkpoint(dir, config, files, names, stored);
    try {
      checkpoint.checkHeader();
    } catch (e) {
      await checkpoint.close();
      throw e;
    }
    return checkpoint;
  }

  /**
   * The registered adapter's check of config.json against the header (see
   * `ArchitectureAdapter.checkHeader`). A folder whose architecture no registered adapter reads is
   * not checked here: whoever needs its adapter reports it as unsupported.
   */
  private checkHeader(): void {
    const byType =
      typeof this.config.model_type === 'string' ? getAdapter(this.config.model_type) : undefined;
    const adapter = byType ?? listAdapters().find((a) => a.detect(this.config));
    adapter?.checkHeader?.(this);
  }

  get modelType(): string | undefined {
    return typeof this.config.model_type === 'string' ? this.config.model_type : undefined;
  }

  names(): string[] {
    return [...this.owner.keys()];
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  info(name: string): CheckpointTensorInfo {
    const f = this.owner.get(name);
    if (!f) throw new FmnError(`no tensor named "${name}" in the checkpoint`, this.dir);
    return { ...f.info(this.stored.get(name) ?? name), name, file: f.path };
  }

  /**
   * Reads one tensor. A float tensor holding NaN or an infinity is an FmnError naming the weights
   * file and the tensor: every use of a model (merge, eval, Fisher) would be silently wrong.
   */
  async read(name: string): Promise<RawTensor> {
    const f = this.owner.get(name);
    if (!f) throw new FmnError(`no tensor named "${name}" in the checkpoint`, this.dir);
    const raw = await f.read(this.stored.get(name) ?? name);
    const bad = firstNonFinite(raw);
    if (bad >= 0) {
      throw new FmnError(
        `tensor "${name}" holds a non-finite value (NaN or infinity) at flat index ${bad}; the model's weights are corrupt`,
        f.path,
      );
    }
    return raw;
  }

  /**
   * Reads rows [start, end) of one tensor (./rows.ts), checked as `read` checks a whole tensor (the
   * flat index of a non-finite value is the whole tensor's). A safetensors file reads just those
   * rows; a PyTorch file reads the whole tensor and keeps the rows (no memory saved).
   */
  async readRows(name: string, rows: RowRange): Promise<RawTensor> {
    const f = this.owner.get(name);
    if (!f) throw new FmnError(`no tensor named "${name}" in the checkpoint`, this.dir);
    const stored = this.stored.get(name) ?? name;
    const { shape, dtype } = f.info(stored);
    checkRowRange(shape, rows, `tensor "${name}"`, f.path);
    let raw: RawTensor;
    if (f.readRows) raw = await f.readRows(stored, rows);
    else {
      const whole = await f.read(stored);
      const rowBytes = rowSize(shape) * DTYPE_SIZE[dtype];
      raw = {
        dtype: whole.dtype,
        shape: rowsShape(shape, rows),
        bytes: whole.bytes.slice(rows.start * rowBytes, rows.end * rowBytes),
      };
    }
    const bad = firstNonFinite(raw);
    if (bad >= 0) {
      throw new FmnError(
        `tensor "${name}" holds a non-finite value (NaN or infinity) at flat index ${rows.start * rowSize(shape) + bad}; the model's weights are corrupt`,
        f.path,
      );
    }
    return raw;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return toFloat32(await this.read(name));
  }

  /** Bytes read from disk by this checkpoint so far. */
  get bytesRead(): number {
    return this.files.reduce((s, f) => s + f.bytesRead, 0);
  }

  /**
   * Tokenizer files present in the folder (names only). A tokenizer file's name that is not a
   * regular file of sane size (a FIFO, a symlink to a device) is an error naming it: copying or
   * reading it would block forever.
   */
  async tokenizerFiles(): Promise<string[]> {
    const present: string[] = [];
    for (const f of tokenizerFileNames())
      if ((await regularFileSize(join(this.dir, f))) !== undefined) present.push(f);
    return present;
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
