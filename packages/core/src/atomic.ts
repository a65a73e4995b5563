import { open, rename, rm, mkdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FmnError, withPath } from './errors.js';

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file through `write` into a temp file in the target's folder, then renames it over
 * `path`. On failure the temp file is removed and nothing is left at `path`.
 */
export async function atomicFile(path: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fh = await open(tmp, 'wx');
  try {
    await write(fh);
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw withPath(e, target); // a failed write (ENOSPC) names the file, not nothing
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await atomicFile(path, async (fh) => {
    await fh.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds a folder atomically: `build` fills a temp folder beside `target`, which is renamed to
 * `target` at the end. An existing target is an error unless `force`, in which case it is replaced
 * only after the new folder is complete. A failed build leaves nothing behind.
 */
export async function atomicDir(
  target: string,
  build: (tmpDir: string) => Promise<void>,
  options: { force?: boolean } = {},
): Promise<void> {
  const dest = resolve(target);
  if ((await exists(dest)) && !options.force) {
    throw new FmnError('output folder already exists (use --force to replace it)', target);
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempName(dest);
  await mkdir(tmp);
  try {
    await build(tmp);
    if (await exists(dest)) {
      if (!options.force) throw new FmnError('output folder appeared while it was being built', target);
      const old = tempName(dest) + '.old';
      await rename(dest, old);
      try {
        await rename(tmp, dest);
      } catch (e) {
        await rename(old, dest).catch(() => undefined); // put the previous folder back
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dest);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
