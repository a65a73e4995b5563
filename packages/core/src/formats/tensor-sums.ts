/**
 * The common shape of fmn's full-Fisher and Gram files: a safetensors file of F32 tensors that are
 * sums over examples (so shards combine by summing), a format name and a model record in the
 * metadata. Opened with checks; combined tensor by tensor, one at a time.
 */
import { FmnError } from '../errors.js';
import { SafetensorsFile, writeSafetensors } from '../safetensors.js';
import type { RowRange } from '../rows.js';
import { fromFloat32, shapeEquals, toFloat32 } from '../tensor.js';
import { readModelRecord, type ModelRecord } from './model-record.js';
import { checkF32, checkFormatName, sumFloat32 } from './validate.js';

export class TensorSumsFile {
  protected constructor(
    protected readonly f: SafetensorsFile,
    /** "full Fisher", "Gram" */
    readonly what: string,
  ) {}

  protected static async openChecked(path: string, format: string, what: string): Promise<SafetensorsFile> {
    const f = await SafetensorsFile.open(path);
    try {
      checkFormatName(f, format, what);
      for (const name of f.names()) checkF32(f, name, what);
      return f;
    } catch (e) {
      await f.close();
      throw e;
    }
  }

  get path(): string {
    return this.f.path;
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.f.metadata;
  }

  /** the model the file was computed on, as recorded */
  get record(): ModelRecord {
    return readModelRecord(this.f.metadata);
  }

  names(): string[] {
    return this.f.names();
  }

  has(name: string): boolean {
    return this.f.has(name);
  }

  shape(name: string): readonly number[] {
    return this.f.info(name).shape;
  }

  /** The raw float32 values of a tensor, or of its rows `rows` (a fresh array; subclasses check them). */
  protected async readValues(name: string, rows?: RowRange): Promise<Float32Array> {
    return rows ? toFloat32(await this.f.readRows(name, rows)) : this.f.readFloat32(name);
  }

  close(): Promise<void> {
    return this.f.close();
  }
}

/**
 * Sums files of one kind tensor by tensor into `outPath` (they must hold the same tensors in the
 * same shapes); `read` opens and checks one.
 */
export async function sumTensorFiles<T extends TensorSumsFile>(
  paths: readonly string[],
  open: (path: string) => Promise<T>,
  read: (file: T, name: string) => Promise<Float32Array>,
  outPath: string,
  metadata: Record<string, string>,
): Promise<void> {
  if (paths.length === 0) throw new FmnError('nothing to combine: no files given');
  const opened: T[] = [];
  try {
    for (const p of paths) opened.push(await open(p));
    const first = opened[0];
    const names = first.names();
    for (const o of opened.slice(1)) {
      const set = new Set(o.names());
      if (set.size !== names.length || !names.every((n) => set.has(n))) {
        throw new FmnError(`cannot combine: its tensors differ from those of ${first.path}`, o.path);
      }
      for (const n of names) {
        if (!shapeEquals(o.shape(n), first.shape(n))) {
          throw new FmnError(
            `cannot combine: tensor "${n}" has a different shape than in ${first.path}`,
            o.path,
          );
        }
      }
    }
    const tensors = names.map((name) => ({
      name,
      dtype: 'F32' as const,
      shape: first.shape(name),
      data: async () => {
        const parts: Float32Array[] = [];
        for (const o of opened) parts.push(await read(o, name));
        const s = sumFloat32(parts);
        return fromFloat32(s, 'F32');
      },
    }));
    await writeSafetensors(outPath, tensors, metadata);
  } finally {
    await Promise.all(opened.map((o) => o.close()));
  }
}

/** Writes float32 tensors (name, shape, values) and `metadata` as one safetensors file. */
export function writeF32Tensors(
  path: string,
  tensors: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly values: Float32Array;
  }[],
  metadata: Record<string, string>,
): Promise<void> {
  return writeSafetensors(
    path,
    tensors.map((t) => ({
      name: t.name,
      dtype: 'F32' as const,
      shape: t.shape,
      data: fromFloat32(t.values, 'F32'),
    })),
    metadata,
  );
}
