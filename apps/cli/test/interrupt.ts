/**
 * Helpers of the signal and kill tests: spawn the built binary, signal it, and judge what it left
 * at its --out path.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFmnTempName } from '@fmn/core';
import { BIN } from './helpers.js';

export interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** ms from sending the signal to the process's exit (undefined if it exited first) */
  afterSignal?: number;
}

export interface Spawned {
  /** resolves when the process has exited */
  readonly exited: Promise<Stopped>;
  readonly running: () => boolean;
  /** sends `signal` (if still running) and waits for the exit */
  stop(signal: NodeJS.Signals): Promise<Stopped>;
}

export function spawnFmn(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let running = true;
  let sentAt: number | undefined;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Stopped>((done, reject) => {
    child.on('error', reject);
    let afterSignal: number | undefined;
    child.on('exit', () => {
      running = false;
      afterSignal = sentAt === undefined ? undefined : performance.now() - sentAt;
    });
    // 'close' comes after 'exit', once stderr is drained
    child.on('close', (code, signal) => done({ code, signal, stderr, afterSignal }));
  });
  return {
    exited,
    running: () => running,
    async stop(signal) {
      if (running) {
        sentAt = performance.now();
        child.kill(signal);
      }
      return exited;
    },
  };
}

/**
 * Runs `args` to the end, watching `folder` for fmn temps; returns the wall time and when the
 * first temp appeared (ms from the start; the run time if none was seen). Throws on a non-zero exit.
 */
export async function timedRun(
  args: string[],
  folder: string,
): Promise<{ total: number; firstTemp: number }> {
  const t0 = performance.now();
  const child = spawnFmn(args);
  const seen = await untilTemp(child, folder);
  const firstTemp = seen ? performance.now() - t0 : undefined;
  const r = await child.exited;
  if (r.code !== 0) throw new Error(`fmn ${args.join(' ')} exited with ${r.code}:\n${r.stderr}`);
  const total = performance.now() - t0;
  return { total, firstTemp: firstTemp ?? total };
}

/** Waits until an fmn temp appears in `folder` (true) or the process exits (false). */
export async function untilTemp(child: Spawned, folder: string): Promise<boolean> {
  while (child.running()) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    if (entries.some((e) => parseFmnTempName(e) !== undefined)) return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return false;
}

/** Entries of `dir` other than `keep`, each of which must be an fmn temp of output `keep`. */
export async function tempsBeside(dir: string, keep: string): Promise<{ fmn: string[]; other: string[] }> {
  const entries = (await readdir(dir)).filter((e) => e !== keep);
  return {
    fmn: entries.filter((e) => parseFmnTempName(e)?.target === keep),
    other: entries.filter((e) => parseFmnTempName(e)?.target !== keep),
  };
}

/** Every file under `dir` (relative paths, sorted) with its bytes. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.set(r, await readFile(join(dir, r)));
    }
  };
  await walk('');
  return out;
}

/** A seeded PRNG in [0, 1) (mulberry32), so a failing trial can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
