/**
 * Atomic outputs: a file or folder is written under an fmn temp name beside its final path
 * (temp-name.ts) and renamed into place when complete, so the output path only ever holds nothing,
 * the previous complete output, or the new complete output.
 *
 * - A file replaces an existing one by rename-over (atomic on POSIX).
 * - A folder cannot be renamed over a non-empty folder, so `--force` moves the old folder aside
 *   to a backup `.<name>.fmn-old-<pid>-<tag>`, renames the new one in, then deletes the backup. A
 *   kill between the two renames leaves the output missing and the backup beside it; the next run
 *   writing that output restores the backup first (recover-output.ts), as does this process's
 *   signal handler (`removeLiveTempsSync`).
 *
 * Every temp and backup in use is in a registry of live temps, which a signal handler empties
 * synchronously (`removeLiveTempsSync`) before the process exits.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { open, rename, rm, mkdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FmnError } from './errors.js';
import { recoverOutput } from './recover-output.js';
import { fmnTempPath, newTempTag } from './temp-name.js';

/** A temp in use: `tmp` is removed on a signal; `backup` is put back at `dest` if `dest` is missing. */
interface LiveTemp {
  tmp?: string;
  dest?: string;
  backup?: string;
}

const live = new Set<LiveTemp>();

/**
 * Registers a temp file or folder of this process (e.g. a scratch folder) so that a signal
 * handler removes it; returns the function that unregisters it.
 */
export function registerLiveTemp(path: string): () => void {
  const entry: LiveTemp = { tmp: path };
  live.add(entry);
  return () => live.delete(entry);
}

/**
 * Removes every registered temp, synchronously (for a signal handler, before `process.exit`):
 * a folder replacement caught between its two renames gets its previous folder back. Returns the
 * unfinished outputs removed and the backups restored (not the backup of a replacement that had
 * completed). Never throws.
 */
export function removeLiveTempsSync(): string[] {
  const done: string[] = [];
  for (const e of live) {
    try {
      if (e.backup && existsSync(e.backup)) {
        if (e.dest && !existsSync(e.dest)) {
          renameSync(e.backup, e.dest); // caught between the renames: the previous folder goes back
          done.push(e.backup);
        } else {
          rmSync(e.backup, { recursive: true, force: true }); // the new folder is in place already
        }
      }
    } catch {
      // left for the next run to restore (recover-output.ts)
    }
    try {
      if (e.tmp && existsSync(e.tmp)) {
        rmSync(e.tmp, { recursive: true, force: true });
        done.push(e.tmp);
      }
    } catch {
      // left for the next run to remove
    }
  }
  live.clear();
  return done;
}

/**
 * Writes a file through `write` into a temp file in the target's folder, then renames it over
 * `path`. On failure the temp file is removed and `path` is untouched. Stale temps of `path` left
 * by killed runs are cleaned first.
 */
export async function atomicFile(path: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  await recoverOutput(target);
  const tmp = fmnTempPath(target, 'tmp');
  const entry: LiveTemp = { tmp };
  live.add(entry);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await write(fh);
      await fh.sync();
      await fh.close();
      await rename(tmp, target);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
  } finally {
    live.delete(entry);
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
 * only after the new folder is complete (see the top of this file). A failed build leaves nothing
 * behind. Stale temps of `target` left by killed runs are cleaned (or restored) first.
 */
export async function atomicDir(
  target: string,
  build: (tmpDir: string) => Promise<void>,
  options: { force?: boolean } = {},
): Promise<void> {
  const dest = resolve(target);
  await mkdir(dirname(dest), { recursive: true });
  const recovery = await recoverOutput(dest);
  if ((await exists(dest)) && !options.force) {
    throw new FmnError(
      recovery.restored
        ? 'output folder already exists (restored from an interrupted --force run; use --force to replace it)'
        : 'output folder already exists (use --force to replace it)',
      target,
    );
  }
  const tag = newTempTag();
  const tmp = fmnTempPath(dest, 'tmp', tag);
  const entry: LiveTemp = { tmp, dest };
  live.add(entry);
  try {
    await mkdir(tmp);
    await build(tmp);
    if (await exists(dest)) {
      if (!options.force) throw new FmnError('output folder appeared while it was being built', target);
      const backup = fmnTempPath(dest, 'old', tag);
      entry.backup = backup;
      await rename(dest, backup);
      try {
        await rename(tmp, dest);
      } catch (e) {
        await rename(backup, dest).catch(() => undefined); // put the previous folder back
        throw e;
      }
      entry.tmp = undefined; // it is the output now
      await rm(backup, { recursive: true, force: true });
    } else {
      await rename(tmp, dest);
      entry.tmp = undefined;
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    live.delete(entry);
  }
}
