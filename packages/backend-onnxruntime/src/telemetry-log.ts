/**
 * onnxruntime-node's bundled telemetry SDK (1DS) creates an empty `mat-debug-<pid>.log` in the
 * system temp folder (os.tmpdir(), which honours TMPDIR) when the first InferenceSession of a
 * process is created, and never removes it: one file per process, thousands over time. Nothing is
 * ever written to it, so the backend removes it right after its first session exists. A process
 * killed before that (SIGKILL) leaves its file behind: the empty files of processes that are no
 * longer running are removed at the same time.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@fmn/core';

let removed = false;

/** The path onnxruntime's telemetry log gets for this process. */
export function telemetryLogPath(pid: number = process.pid, dir: string = tmpdir()): string {
  return join(dir, `mat-debug-${pid}.log`);
}

/** Remove this process's empty telemetry log, once; a non-empty file is left for whoever wrote it. */
export function removeTelemetryLog(): void {
  if (removed) return;
  removed = true;
  removeIfEmpty(telemetryLogPath());
  removeStaleTelemetryLogs();
}

function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) rmSync(path, { force: true });
  } catch {
    // not there (or not ours to remove): nothing to do
  }
}

/** Removes the empty telemetry logs in `dir` of processes that no longer run; returns how many. */
export function removeStaleTelemetryLogs(dir: string = tmpdir()): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const m = /^mat-debug-(\d+)\.log$/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const path = join(dir, name);
    try {
      if (statSync(path).size !== 0) continue;
      rmSync(path, { force: true });
      n++;
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return n;
}
