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
import { open, rename, rm, mkdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FmnError, withPath } from './errors.js';
import { recoverOutput } from './recover-output.js';
import { fmnTempPath, newTempTag, parseFmnTempName } from './temp-name.js';
import { pathExists } from './path-exists.js';

/**
 * A temp in use: `tmp` is removed on a signal. While a replacement is under way (`moves`: each
 * output moved aside to its backup; `placed`: the outputs renamed in so far) and not `committed`,
 * the backups go back and outputs placed without a backup are removed; once committed, the
 * backups are deleted.
 */
interface LiveTemp {
  tmp?: string;
  moves: { dest: string; backup: string }[];
  placed: string[];
  committed: boolean;
}

const live = new Set<LiveTemp>();

const liveTemp = (tmp: string): LiveTemp => ({ tmp, moves: [], placed: [], committed: false });

/**
 * Registers a temp file or folder of this process (e.g. a scratch folder) so that a signal
 * handler removes it; returns the function that unregisters it.
 */
export function registerLiveTemp(path: string): () => void {
  const entry = liveTemp(path);
  live.add(entry);
  return () => live.delete(entry);
}

function undoSync(e: LiveTemp, done: string[]): void {
  for (const m of e.moves) {
    try {
      if (!existsSync(m.backup)) continue;
      if (e.committed) {
        rmSync(m.backup, { recursive: true, force: true }); // the new output is in place already
      } else {
        renameSync(m.backup, m.dest); // the previous output goes back (a folder only if its place is free)
        done.push(m.backup);
      }
    } catch {
      // left for the next run to restore or remove (recover-output.ts)
    }
  }
  if (e.committed) return;
  for (const p of e.placed) {
    if (e.moves.some((m) => m.dest === p)) continue;
    try {
      rmSync(p, { recursive: true, force: true }); // a new file of an unfinished set, with nothing before it
      done.push(p);
    } catch {
      // left in place
    }
  }
}

/**
 * Removes a temp synchronously. A rename of it into place may be running on libuv's thread pool
 * at this moment, so it is first renamed away (atomic: either that rename or this one wins, and
 * the output is never a half-deleted folder), then deleted under its new name.
 */
function removeTempSync(tmp: string, done: string[]): void {
  const parsed = parseFmnTempName(basename(tmp));
  const doomed = parsed ? fmnTempPath(join(dirname(tmp), parsed.target), 'tmp') : tmp;
  try {
    if (doomed !== tmp) renameSync(tmp, doomed);
  } catch {
    return; // gone: renamed into place (or never created)
  }
  try {
    rmSync(doomed, { recursive: true, force: true });
    done.push(tmp);
  } catch {
    // left for the next run to remove (still named as fmn's)
  }
}

/**
 * Removes every registered temp, synchronously (for a signal handler, before `process.exit`):
 * a replacement caught midway gets its previous outputs back. Returns the unfinished outputs
 * removed and the backups restored (not the backups of a replacement that had completed). Never
 * throws.
 */
export function removeLiveTempsSync(): string[] {
  const done: string[] = [];
  for (const e of live) {
    undoSync(e, done);
    if (e.tmp) removeTempSync(e.tmp, done);
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
  const entry = liveTemp(tmp);
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
      throw withPath(e, target); // a failed write (ENOSPC) names the file, not nothing
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
  if ((await pathExists(dest)) && !options.force) {
    throw new FmnError(
      recovery.restored
        ? 'output folder already exists (restored from an interrupted --force run; use --force to replace it)'
        : 'output folder already exists (use --force to replace it)',
      target,
    );
  }
  const tag = newTempTag();
  const tmp = fmnTempPath(dest, 'tmp', tag);
  const entry = liveTemp(tmp);
  live.add(entry);
  try {
    await mkdir(tmp);
    await build(tmp);
    if (await pathExists(dest)) {
      if (!options.force) throw new FmnError('output folder appeared while it was being built', target);
      const backup = fmnTempPath(dest, 'old', tag);
      entry.moves.push({ dest, backup });
      await rename(dest, backup);
      try {
        await rename(tmp, dest);
      } catch (e) {
        await rename(backup, dest).catch(() => undefined); // put the previous folder back
        throw e;
      }
      entry.committed = true;
      entry.tmp = undefined; // it is the output now
      await rm(backup, { recursive: true, force: true });
    } else {
      await rename(tmp, dest);
      entry.committed = true;
      entry.tmp = undefined;
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    live.delete(entry);
  }
}

/**
 * Writes several files that belong together (an ONNX graph and its external weights), all in one
 * folder: `build` writes them under their own names into a temp folder; then any existing ones
 * are moved aside to backups sharing one tag, the new ones renamed in with `targets[0]` last, and
 * the backups deleted. Until `targets[0]` is in place the previous set is what a signal handler
 * or the next run restores (recover-output.ts); after a SIGKILL of a fresh write, the files
 * placed before `targets[0]` may remain. Existing targets are an error unless `force`.
 */
export async function atomicFiles(
  targets: readonly string[],
  build: (tmpDir: string) => Promise<void>,
  options: { force?: boolean } = {},
): Promise<void> {
  const dests = targets.map((t) => resolve(t));
  const dir = dirname(dests[0]);
  if (dests.some((d) => dirname(d) !== dir)) throw new Error('atomicFiles: the files must share one folder');
  await mkdir(dir, { recursive: true });
  for (const d of dests) await recoverOutput(d);
  if (!options.force) {
    for (const [i, d] of dests.entries()) {
      if (await pathExists(d)) throw new FmnError('already exists (use --force to replace it)', targets[i]);
    }
  }
  const tag = newTempTag();
  const tmp = fmnTempPath(dests[0], 'tmp', tag);
  const entry = liveTemp(tmp);
  live.add(entry);
  try {
    await mkdir(tmp);
    await build(tmp);
    for (const d of dests) {
      if (!(await pathExists(join(tmp, basename(d)))))
        throw new Error(`atomicFiles: ${basename(d)} was not written`);
    }
    for (const d of dests) {
      if (!(await pathExists(d))) continue;
      const backup = fmnTempPath(d, 'old', tag);
      entry.moves.push({ dest: d, backup });
      await rename(d, backup);
    }
    for (const d of [...dests].reverse()) {
      entry.placed.push(d);
      await rename(join(tmp, basename(d)), d);
    }
    entry.committed = true;
    for (const m of entry.moves) await rm(m.backup, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  } catch (e) {
    if (!entry.committed) {
      for (const p of entry.placed) {
        if (!entry.moves.some((m) => m.dest === p)) await rm(p, { force: true });
      }
      for (const m of entry.moves) await rename(m.backup, m.dest).catch(() => undefined);
    }
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    live.delete(entry);
  }
}
