import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(CLI_DIR, 'dist', 'bin.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary: `node dist/bin.js ...args`. */
export function fmn(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Asserts the run failed as a user error: exit 1, exactly one line on stderr starting "fmn: ". */
export function userError(r: RunResult): string {
  const lines = r.stderr.trimEnd().split('\n');
  if (r.code !== 1 || lines.length !== 1 || !lines[0].startsWith('fmn: ')) {
    throw new Error(`expected a one-line user error with exit code 1, got code ${r.code}:\n${r.stderr}`);
  }
  return lines[0];
}

export async function tempDir(prefix = 'fmn-cli-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** folder of the shared fixtures (see fixtures.ts) */
    fx: string;
  }
}

/** Runs the binary and asserts exit code 0; returns stdout. */
export async function ok(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const r = await fmn(args, options);
  if (r.code !== 0) throw new Error(`fmn ${args.join(' ')} exited with ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** Reads a float32 tensor (and the file's metadata) from a safetensors file. */
export async function readTensor(
  path: string,
  name: string,
): Promise<{ data: Float32Array; shape: number[]; metadata: Record<string, string> }> {
  const { SafetensorsFile } = await import('@fmn/core');
  const f = await SafetensorsFile.open(path);
  try {
    return { data: await f.readFloat32(name), shape: [...f.info(name).shape], metadata: { ...f.metadata } };
  } finally {
    await f.close();
  }
}

/** max |a - b| / max(|b|, tiny) over all entries */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / scale;
}
