/**
 * Outputs never overwrite inputs: `--out` may not be an input file, a model's own file (its
 * weights, config or tokenizer) or a folder holding an input; an existing output is replaced only
 * with `force`. Paths are compared after resolving symlinks, so `./m/../m/model.safetensors` and a
 * symlink to it are the same file. A killed earlier run's temps of `--out` are recovered first
 * (recover-output.ts), so an output that a killed `--force` run had moved aside counts as existing.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { tokenizerFileNames } from './checkpoint.js';
import { FmnError } from './errors.js';
import { recoverOutput } from './recover-output.js';

export interface GuardedInput {
  /** a file or folder the command reads */
  readonly path: string;
  /** what it is, for the error ("the model", "the data", "a shard") */
  readonly what: string;
}

/** Files of a model folder: weights (and their shards and indexes), configs, tokenizer files. */
const MODEL_FILE =
  /^(model(-\d+-of-\d+)?\.safetensors(\.index\.json)?|pytorch_model(-\d+-of-\d+)?\.bin(\.index\.json)?|config\.json|generation_config\.json)$/;

/** Whether `name` is one of a model folder's own files. */
export function isModelFileName(name: string): boolean {
  return MODEL_FILE.test(name) || tokenizerFileNames().includes(name);
}

/** `path` with symlinks resolved as far as it exists (the rest appended as given). */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await canonical(parent), basename(abs));
  }
}

const inside = (child: string, parent: string): boolean => {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
};

/**
 * Checks `out` before anything is written: not an input, not a model file inside an input
 * folder, not a folder containing an input; of the right kind; existing only with `force`.
 */
export async function checkOutputPath(
  out: string,
  inputs: readonly GuardedInput[],
  options: { kind: 'file' | 'folder'; force?: boolean },
): Promise<void> {
  const target = await canonical(out);
  for (const input of inputs) {
    const p = await canonical(input.path);
    if (target === p)
      throw new FmnError(`--out is ${input.what} (${input.path}); write the output somewhere else`, out);
    if (inside(p, target)) {
      throw new FmnError(
        `--out contains ${input.what} (${input.path}); write the output somewhere else`,
        out,
      );
    }
    if (options.kind === 'file' && inside(target, p) && isModelFileName(basename(target))) {
      throw new FmnError(
        `--out would replace ${basename(target)}, a file of ${input.what} (${input.path}); write the output somewhere else`,
        out,
      );
    }
  }
  const recovery = await recoverOutput(out); // temps sit beside the path as given (atomic.ts)
  let st;
  try {
    st = await stat(out);
  } catch {
    return;
  }
  if (options.kind === 'file' && st.isDirectory()) {
    throw new FmnError('--out is a folder; give a file name', out);
  }
  if (options.kind === 'folder' && !st.isDirectory()) {
    throw new FmnError('--out is a file; give a folder', out);
  }
  if (!options.force) {
    if (recovery.restored) {
      throw new FmnError(
        '--out already exists (restored from an interrupted --force run); add --force to replace it',
        out,
      );
    }
    throw new FmnError(`--out already exists; add --force to replace it`, out);
  }
}
