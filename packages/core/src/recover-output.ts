/**
 * Recovery after a killed run (SIGKILL, power loss): before fmn writes an output it looks beside
 * it for fmn temps of that output (temp-name.ts) whose process no longer runs.
 *
 * - If the output is missing and a backup `.<name>.fmn-old-*` exists, a `--force` replacement was
 *   killed between moving the old output aside and renaming the new one in: the backup, the old
 *   complete output, is renamed back to `<name>`. Files replaced together (a graph and its
 *   weights) have backups with one pid and tag; while any of their outputs is missing, all of
 *   them are restored, so the old files go back as a set.
 * - Every other stale temp or backup is removed: a `.fmn-tmp-*` is an unfinished (or unused)
 *   output, and a `.fmn-old-*` beside an existing output is a replaced one.
 *
 * Temps of running processes (this one included) are left alone.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseFmnTempName, type ParsedTempName } from './temp-name.js';
import { pathExists } from './path-exists.js';

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

interface StaleEntry {
  readonly path: string;
  readonly parsed: ParsedTempName;
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
  const stale: StaleEntry[] = [];
  for (const e of entries) {
    const parsed = parseFmnTempName(e);
    if (parsed && !processAlive(parsed.pid)) stale.push({ path: join(dir, e), parsed });
  }
  const mine = stale.filter((e) => e.parsed.target === name);
  if (mine.length === 0) return { removed: [] };
  // Backups made together (one replacement of several files) share pid and tag: while any of
  // their outputs is missing, the replacement had not completed, and all of them go back. The
  // newest replacement is the one whose outputs were in place last.
  const key = (p: ParsedTempName) => `${p.pid}-${p.tag}`;
  const groups = await Promise.all(
    [...new Set(mine.filter((e) => e.parsed.kind === 'old').map((e) => key(e.parsed)))].map(async (k) => {
      const members = stale.filter((e) => e.parsed.kind === 'old' && key(e.parsed) === k);
      const times = await Promise.all(
        members.map(async (m) => (await stat(m.path).catch(() => undefined))?.ctimeMs ?? -1),
      );
      return { members, time: Math.max(...times) };
    }),
  );
  groups.sort((a, b) => b.time - a.time);
  let restored: string | undefined;
  const done = new Set<string>();
  for (const g of groups) {
    const present = await Promise.all(g.members.map((m) => pathExists(join(dir, m.parsed.target))));
    if (present.every(Boolean)) continue;
    for (const m of g.members) {
      try {
        await rename(m.path, join(dir, m.parsed.target)); // a file is replaced; a folder only if absent
        done.add(m.path);
        if (m.parsed.target === name) restored = m.path;
      } catch {
        // the output is back already (a newer replacement restored it): removed below
      }
    }
  }
  const removed: string[] = [];
  for (const e of mine) {
    if (done.has(e.path)) continue;
    await rm(e.path, { recursive: true, force: true });
    removed.push(e.path);
  }
  return { restored, removed };
}
