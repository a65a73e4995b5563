/**
 * Writes the output folders: one HuggingFace folder per input model (config and tokenizer files
 * copied, the merged encoder tensors shared through SharedTensors, its own task head), inside the
 * atomically created output folder.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fromFloat32,
  modelFolderName,
  toFloat32,
  writeSafetensors,
  type DType,
  type RawTensor,
  type TensorToWrite,
} from '@fmn/core';
import type { Opened } from './compatibility.js';
import { encode, FLOAT_DTYPES } from './float.js';
import type { SharedTensors } from './shared.js';

export type MergedTensor =
  { readonly kind: 'float'; readonly data: Float32Array } | { readonly kind: 'raw'; readonly raw: RawTensor };

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

/**
 * Writes model `o`'s output folder `dir`: shared merged tensors then its own heads. Tensor k is
 * written as the shared pieces firstPiece[k] .. firstPiece[k + 1] - 1 (whole, or blocks of rows).
 */
async function writeOne(
  o: Opened,
  dir: string,
  encoderNames: readonly string[],
  firstPiece: readonly number[],
  heads: readonly string[],
  shared: SharedTensors<MergedTensor>,
  dtype: DType | undefined,
): Promise<void> {
  await mkdir(dir);
  await copyFile(join(o.ckpt.dir, 'config.json'), join(dir, 'config.json'));
  for (const f of await o.ckpt.tokenizerFiles()) await copyFile(join(o.ckpt.dir, f), join(dir, f));
  const outDType = (d: DType): DType => (dtype && FLOAT_DTYPES.has(d) ? dtype : d);
  const tensors: TensorToWrite[] = encoderNames.map((name, index) => {
    const dt = outDType(o.ckpt.info(name).dtype);
    return {
      name,
      dtype: dt,
      shape: o.ckpt.info(name).shape,
      data: async function* () {
        for (let p = firstPiece[index]; p < firstPiece[index + 1]; p++) {
          const m = await shared.take(p);
          yield m.kind === 'raw' ? m.raw.bytes : encode(m.data, dt);
        }
      },
    };
  });
  for (const name of heads) {
    const info = o.ckpt.info(name);
    const dt = outDType(info.dtype);
    tensors.push({
      name,
      dtype: dt,
      shape: info.shape,
      data: async () => {
        const raw = await o.ckpt.read(name);
        return dt === raw.dtype ? raw.bytes : fromFloat32(toFloat32(raw), dt);
      },
    });
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', merged_by: 'fmn' });
}

/** Writes every model's folder under `tmp`; a writer that fails stops the others from waiting on it. */
export async function writeModels(
  tmp: string,
  models: readonly Opened[],
  names: readonly string[],
  encoderNames: readonly string[],
  firstPiece: readonly number[],
  heads: readonly string[][],
  shared: SharedTensors<MergedTensor>,
  dtype: DType | undefined,
): Promise<void> {
  const writes = models.map((o, j) =>
    writeOne(o, join(tmp, names[j]), encoderNames, firstPiece, heads[j], shared, dtype).catch(
      (e: unknown) => {
        shared.fail(e);
        throw e;
      },
    ),
  );
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
