/**
 * Recovery after a killed run (SIGKILL, power loss): before fmn writes an output it looks beside
 * it for fmn temps of that output (temp-name.ts) whose process no longer runs.
 *
 * - If the output is missing and a backup `.<name>.fmn-old-*` exists, a `--force` replacement was
 *   killed between moving the old output aside and renaming the new one in: the backup, the old
 *   complete output, is renamed back to `<name>`.
 * - Every other stale temp or backup is removed: a `.fmn-tmp-*` is an unfinished (or unused)
 *   output, and a `.fmn-old-*` beside an existing output is a replaced one.
 *
 * Temps of running processes (this one included) are left alone.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseFmnTempName } from './temp-name.js';

export interface Recovery {
  /** the backup renamed back to the output, if any */
  readonly restored?: string;
  /** the stale temps and backups removed */
  readonly removed: string[];
}

/** Whether process `pid` is running (a process of another user counts as running). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Restores or removes the stale fmn temps of output `target` (see above). */
export async function recoverOutput(target: string): Promise<Recovery> {
  const dest = resolve(target);
  const dir = dirname(dest);
  const name = basename(dest);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return { removed: [] };
  }
  const stale = entries
    .map((e) => ({ path: join(dir, e), parsed: parseFmnTempName(e) }))
    .filter((e) => e.parsed !== undefined && e.parsed.target === name && !processAlive(e.parsed.pid));
  if (stale.length === 0) return { removed: [] };
  let restored: string | undefined;
  if (!(await exists(dest))) {
    // the newest backup is the output that was in place last
    const backups = await Promise.all(
      stale
        .filter((e) => e.parsed?.kind === 'old')
        .map(async (e) => ({
          path: e.path,
          time: (await stat(e.path).catch(() => undefined))?.ctimeMs ?? -1,
        })),
    );
    backups.sort((a, b) => b.time - a.time);
    for (const b of backups) {
      if (b.time < 0) continue;
      try {
        await rename(b.path, dest);
        restored = b.path;
        break;
      } catch {
        // another process restored it first, or it vanished: try the next one
      }
    }
  }
  const removed: string[] = [];
  for (const e of stale) {
    if (e.path === restored) continue;
    await rm(e.path, { recursive: true, force: true });
    removed.push(e.path);
  }
  return { restored, removed };
}
