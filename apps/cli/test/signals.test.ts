/**
 * Ctrl-C and SIGTERM on the built binary: exit within a second with 130 / 143, one line on
 * stderr and no stack trace, no temp file or folder left, and a --force replacement caught midway
 * keeps the previous output.
 */
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from './helpers.js';
import { exists, snapshot, spawnFmn, timedRun, untilTemp, type Stopped } from './interrupt.js';

const fx = inject('fx');
const models = ['--model', join(fx, 'bert', 'two-labels'), '--model', join(fx, 'bert', 'three-labels')];
const mergeArgs = (out: string, extra: string[] = []) => [
  'merge',
  '--method',
  'average',
  ...models,
  ...extra,
  '--out',
  out,
];
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('fmn-signals-')));
afterAll(() => cleanup());

const ATTEMPTS = 5;

function expectCleanExit(r: Stopped, signal: 'SIGINT' | 'SIGTERM', removed: boolean): void {
  expect(r.code, r.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
  expect(r.afterSignal).toBeLessThan(1000);
  expect(r.stderr).toBe(`fmn: interrupted by ${signal}${removed ? '; unfinished outputs removed' : ''}\n`);
}

/**
 * Starts `args` (writing into `folder`) until one run is caught while a temp of it exists, then
 * sends `signal`; returns that run's result (a run that ends first is retried).
 */
async function interruptWhileWriting(
  args: string[],
  folder: string,
  signal: 'SIGINT' | 'SIGTERM',
): Promise<Stopped> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const child = spawnFmn(args);
    if (await untilTemp(child, folder)) return child.stop(signal);
    const r = await child.exited;
    expect(r.code, r.stderr).toBe(0);
    // it finished before a temp was seen: start again from the same state
    const out = args[args.indexOf('--out') + 1];
    if (!args.includes('--force'))
      await import('node:fs/promises').then((f) => f.rm(out, { recursive: true }));
  }
  throw new Error(`no temp seen in ${ATTEMPTS} runs of fmn ${args.join(' ')}`);
}

describe('signals', () => {
  it('SIGINT while merge writes: exit 130 within 1 s, one line, no temp and no output left', async () => {
    const folder = join(dir, 'int');
    await mkdir(folder);
    const r = await interruptWhileWriting(mergeArgs(join(folder, 'merged')), folder, 'SIGINT');
    expectCleanExit(r, 'SIGINT', true);
    expect(await readdir(folder)).toEqual([]);
  });

  it('SIGTERM while merge --force replaces an output: exit 143, the previous output intact, no temp left', async () => {
    const old = join(dir, 'old');
    await timedRun(mergeArgs(old, ['--lambda', '0.2', '0.8']), dir);
    const before = await snapshot(old);
    const folder = join(dir, 'term');
    await mkdir(folder);
    const out = join(folder, 'merged');
    await cp(old, out, { recursive: true });
    const r = await interruptWhileWriting(mergeArgs(out, ['--force']), folder, 'SIGTERM');
    expectCleanExit(r, 'SIGTERM', true);
    expect(await readdir(folder)).toEqual(['merged']);
    expect([...(await snapshot(out)).entries()]).toEqual([...before.entries()]);
  });

  it('SIGINT while fisher computes: exit 130 within 1 s, one line, nothing written', async () => {
    const folder = join(dir, 'fisher');
    await mkdir(folder);
    const args = (out: string) => [
      'fisher',
      '--model',
      join(fx, 'bert', 'two-labels'),
      '--data',
      join(fx, 'data', 'two.tsv'),
      '--samples',
      'all',
      '--batch-size',
      '1',
      '--out',
      out,
    ];
    const { total, firstTemp } = await timedRun(args(join(dir, 'ref.safetensors')), dir);
    // into the computation: past the start-up (half the time before the output is written), before the write
    let r: Stopped | undefined;
    for (let attempt = 0; attempt < ATTEMPTS && r?.code !== 130; attempt++) {
      const child = spawnFmn(args(join(folder, 'f.safetensors')));
      await new Promise((done) => setTimeout(done, (firstTemp * (ATTEMPTS - attempt)) / (ATTEMPTS + 1)));
      r = await child.stop('SIGINT');
      if (r.code === 0) await import('node:fs/promises').then((f) => f.rm(join(folder, 'f.safetensors')));
    }
    expect(r?.code, `fisher never caught running (reference run ${Math.round(total)} ms)`).toBe(130);
    expectCleanExit(r!, 'SIGINT', false);
    expect(await readdir(folder)).toEqual([]);
  });

  it('SIGINT during `fmn run` removes its scratch folder of merged models', async () => {
    const folder = join(dir, 'run');
    await mkdir(folder);
    const config = join(folder, 'run.json');
    await writeFile(
      config,
      JSON.stringify({
        output: 'out',
        backend: 'onnxruntime',
        fisher: { samples: 8, batch_size: 4 },
        k: [2],
        methods: ['average', 'fisher-nodes'],
        tasks: [
          { name: 'two', model: join(fx, 'bert', 'two-labels'), data: join(fx, 'data', 'two.tsv') },
          { name: 'three', model: join(fx, 'bert', 'three-labels'), data: join(fx, 'data', 'three.tsv') },
        ],
      }),
    );
    const out = join(folder, 'out');
    let r: Stopped | undefined;
    for (let attempt = 0; attempt < ATTEMPTS && r === undefined; attempt++) {
      const child = spawnFmn(['run', config, '--quiet']);
      while (child.running() && !(await exists(out))) await new Promise((done) => setTimeout(done, 5));
      if (await untilTemp(child, out)) r = await child.stop('SIGINT');
      else expect((await child.exited).code).toBe(0);
    }
    expect(r, `no scratch folder seen in ${ATTEMPTS} runs`).toBeDefined();
    expectCleanExit(r!, 'SIGINT', true);
    const left = await readdir(out);
    expect(left.filter((f) => f.includes('.fmn-'))).toEqual([]);
  });
});
