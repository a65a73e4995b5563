/**
 * onnxruntime-node's bundled telemetry SDK (1DS) creates an empty `mat-debug-<pid>.log` in the
 * system temp folder (os.tmpdir(), which honours TMPDIR) when the first InferenceSession of a
 * process is created, and never removes it: one file per process, thousands over time. Nothing is
 * ever written to it, so the backend removes it right after its first session exists.
 */
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let removed = false;

/** The path onnxruntime's telemetry log gets for this process. */
export function telemetryLogPath(pid: number = process.pid, dir: string = tmpdir()): string {
  return join(dir, `mat-debug-${pid}.log`);
}

/** Remove this process's empty telemetry log, once; a non-empty file is left for whoever wrote it. */
export function removeTelemetryLog(): void {
  if (removed) return;
  removed = true;
  const path = telemetryLogPath();
  try {
    if (statSync(path).size === 0) rmSync(path, { force: true });
  } catch {
    // not there (or not ours to remove): nothing to do
  }
}
