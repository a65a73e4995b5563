import { copyFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { atomicDir } from './atomic.js';
import { Checkpoint, tokenizerFileNames } from './checkpoint.js';
import { FmnError } from './errors.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { DTYPE_SIZE, numel } from './tensor.js';

/** Files beside the weights that a converted folder keeps (config first, then the tokenizer's). */
/** The files `convert` copies beside the weights: the configs and every known tokenizer file. */
export const convertCopiedFiles = (): string[] => [
  'config.json',
  'generation_config.json',
  ...tokenizerFileNames(),
];

export interface ConvertResult {
  readonly tensors: number;
  /** bytes of tensor data written */
  readonly bytes: number;
  /** the files copied beside model.safetensors */
  readonly copied: string[];
}

/**
 * Converts a model folder (pytorch_model.bin, its shards, or safetensors) into a folder with one
 * model.safetensors holding the same tensor names, shapes and dtypes, plus config.json and the
 * tokenizer files, as HuggingFace's conversion does. The output folder is built beside `out` and
 * renamed into place at the end; tensors are read and written one at a time.
 */
export async function convertToSafetensors(
  src: string,
  out: string,
  options: { force?: boolean } = {},
): Promise<ConvertResult> {
  if (resolve(src) === resolve(out))
    throw new FmnError('the output folder is the model folder itself; choose another --out', out);
  const ckpt = await Checkpoint.open(src);
  try {
    const names = ckpt.names();
    const tensors: TensorToWrite[] = names.map((name) => {
      const info = ckpt.info(name);
      return { name, dtype: info.dtype, shape: info.shape, data: async () => (await ckpt.read(name)).bytes };
    });
    const bytes = tensors.reduce((s, t) => s + numel(t.shape) * DTYPE_SIZE[t.dtype], 0);
    const copied: string[] = [];
    await atomicDir(
      out,
      async (tmp) => {
        await writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
        for (const f of convertCopiedFiles()) {
          const from = join(src, f);
          const st = await stat(from).catch(() => undefined);
          if (!st?.isFile()) continue;
          await copyFile(from, join(tmp, f));
          copied.push(f);
        }
      },
      options,
    );
    return { tensors: tensors.length, bytes, copied };
  } finally {
    await ckpt.close();
  }
}
