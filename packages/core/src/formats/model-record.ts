/**
 * The model a Fisher or Gram file was computed on, as recorded in its metadata: `model` (path),
 * `model_type`, `weights_sha256` (a digest of the weights files' sha256, see weightsDigest) and,
 * from older files, `model_sha256` (modelContentHash of the folder). A merge checks a file's record
 * against the model it is given for.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Checkpoint } from '../checkpoint.js';
import { FmnError } from '../errors.js';

export interface FileHash {
  /** absolute path */
  readonly file: string;
  readonly sha256: string;
}

export interface ModelRecord {
  /** the model folder's path when the file was computed */
  readonly path?: string;
  readonly modelType?: string;
  readonly weightsSha256?: string;
  /** modelContentHash of the folder (config, weights and tokenizer files) */
  readonly modelSha256?: string;
}

async function hashInto(h: ReturnType<typeof createHash>, path: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const s = createReadStream(path);
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => done());
    s.on('error', (e: NodeJS.ErrnoException) =>
      fail(
        new FmnError(e.code === 'ENOENT' ? 'file not found' : `cannot read (${e.code ?? e.message})`, path),
      ),
    );
  });
}

export async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  await hashInto(h, path);
  return h.digest('hex');
}

/** sha256 of every weights file of a checkpoint, sorted by path. */
export async function hashWeightFiles(c: Checkpoint): Promise<FileHash[]> {
  const files = [...new Set(c.names().map((n) => c.info(n).file))].sort();
  const out: FileHash[] = [];
  for (const file of files) out.push({ file: resolve(file), sha256: await sha256OfFile(file) });
  return out;
}

/** One digest of a model's weights files: sha256 over "<file name> <sha256>\n", sorted by name. */
export function weightsDigest(files: readonly FileHash[]): string {
  const lines = files.map((f) => `${basename(f.file)} ${f.sha256}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/**
 * sha256 of a model's content: config.json, every weight file (*.safetensors, pytorch_model*.bin,
 * the index) and the tokenizer files, in name order, each preceded by its name. Anything else in the
 * folder (README, merge reports) does not change what the model computes and is left out.
 */
export async function modelContentHash(dir: string): Promise<string> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    throw new FmnError('model folder not found', dir);
  }
  const files = entries.filter(
    (e) =>
      e === 'config.json' ||
      e.endsWith('.safetensors') ||
      e === 'model.safetensors.index.json' ||
      /^pytorch_model.*\.bin$/.test(e) ||
      e === 'pytorch_model.bin.index.json' ||
      e === 'tokenizer.json' ||
      e === 'vocab.txt' ||
      e === 'vocab.json' ||
      e === 'merges.txt' ||
      e === 'tokenizer_config.json',
  );
  const h = createHash('sha256');
  for (const f of files) {
    const p = join(dir, f);
    if (!(await stat(p)).isFile()) continue;
    h.update(`${f}\0`);
    await hashInto(h, p);
    h.update('\0');
  }
  return h.digest('hex');
}

/** The metadata keys recording a model (path, model_type, weights_sha256). */
export async function modelRecordMetadata(dir: string): Promise<Record<string, string>> {
  const c = await Checkpoint.open(dir);
  try {
    const weights = await hashWeightFiles(c);
    return {
      model: resolve(dir),
      ...(c.modelType ? { model_type: c.modelType } : {}),
      weights_sha256: weightsDigest(weights),
    };
  } finally {
    await c.close();
  }
}

/** The record in a file's metadata (empty when it records none). */
export function readModelRecord(metadata: Readonly<Record<string, string>>): ModelRecord {
  const pick = (k: string): string | undefined => (metadata[k] ? metadata[k] : undefined);
  return {
    path: pick('model'),
    modelType: pick('model_type'),
    weightsSha256: pick('weights_sha256'),
    modelSha256: pick('model_sha256'),
  };
}

/** The model a file is checked against. */
export interface ModelIdentity {
  readonly dir: string;
  readonly modelType: string | undefined;
  /** its weights files' hashes (see hashWeightFiles) */
  readonly weights: readonly FileHash[];
}

/**
 * Why `record` does not describe `model` (model type, weights hash, or for older files the
 * folder's content hash), or undefined when it does or records nothing to compare.
 */
export async function recordMismatch(record: ModelRecord, model: ModelIdentity): Promise<string | undefined> {
  const where = record.path ? ` (recorded for ${record.path})` : '';
  if (
    record.modelType !== undefined &&
    model.modelType !== undefined &&
    record.modelType !== model.modelType
  ) {
    return `it was computed on a ${record.modelType} model${where}, but ${model.dir} is ${model.modelType}`;
  }
  if (record.weightsSha256 !== undefined) {
    if (record.weightsSha256 !== weightsDigest(model.weights)) {
      return `it was computed on other weights${where} than those of ${model.dir} (weights_sha256 differs)`;
    }
    return undefined;
  }
  if (record.modelSha256 !== undefined && record.modelSha256 !== (await modelContentHash(model.dir))) {
    return `it was computed on another model${where} than ${model.dir} (model_sha256 differs)`;
  }
  return undefined;
}
