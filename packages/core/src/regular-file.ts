/**
 * Files read from a model folder must be regular files of bounded size: a FIFO, a device (a
 * symlink to /dev/zero) or a socket under a tokenizer file's name would make a read block or
 * never end. Symlinks to regular files are fine (the hub cache is made of them).
 */
import { stat } from 'node:fs/promises';
import { FmnError } from './errors.js';

/** Tokenizer and config files larger than this are refused (the largest real tokenizer.json is ~20 MB). */
export const MAX_SMALL_FILE_BYTES = 512 * 1024 * 1024;

function kindOf(st: Awaited<ReturnType<typeof stat>>): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The size of `path` when it is a regular file (following symlinks), undefined when nothing is
 * there; an FmnError naming the file when it is something else or larger than `maxBytes`.
 */
export async function regularFileSize(
  path: string,
  maxBytes: number = MAX_SMALL_FILE_BYTES,
): Promise<number | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FmnError(`cannot read (${code})`, path);
  }
  if (!st.isFile()) throw new FmnError(`is ${kindOf(st)}, a regular file was expected`, path);
  if (st.size > maxBytes) {
    throw new FmnError(`is ${st.size} bytes, more than the ${maxBytes} this kind of file may have`, path);
  }
  return st.size;
}
