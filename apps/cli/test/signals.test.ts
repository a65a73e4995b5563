/**
 * Ctrl-C and SIGTERM on the built binary: exit within a second with 130 / 143, one line on
 * stderr and no stack trace, no temp file or folder left, and a --force replacement caught midway
 * keeps the previous output.
 */
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '@fmn/core';
import { writeCheckpoint } from '@fmn/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../src/register.js';
import { tempDir } from './helpers.js';
import { snapshot, spawnFmn, timedRun, untilTemp, type Stopped } from './interrupt.js';

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
/** two models large enough (12 MB each) that a merge writes for a good fraction of a second */
let big: string[];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('fmn-signals-'));
  const dims = { layers: 4, hidden: 256, heads: 4, intermediate: 1024, perturbation: 0.02 };
  await writeCheckpoint(join(dir, 'a'), 'bert', { ...dims, numLabels: 2, perturbationSeed: 1 });
  await writeCheckpoint(join(dir, 'b'), 'bert', { ...dims, numLabels: 3, perturbationSeed: 2 });
  big = ['--model', join(dir, 'a'), '--model', join(dir, 'b')];
}, 60_000);
afterAll(() => cleanup());
const mergeArgs = (out: string, extra: string[] = []) => [
  'merge',
  '--method',
  'average',
  ...big,
  ...extra,
  '--out',
  out,
];

const ATTEMPTS = 5;

function expectCleanExit(r: Stopped, signal: 'SIGINT' | 'SIGTERM', removed: boolean): void {
  expect(r.code, r.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
  expect(r.afterSignal).toBeLessThan(1000);
  expect(r.stderr).toBe(`fmn: interrupted by ${signal}${removed ? '; unfinished outputs removed' : ''}\n`);
}

const sameFiles = (a: Map<string, Buffer>, b: Map<string, Buffer>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);

/**
 * Runs merge into `folder` and sends `signal` as soon as its temp appears. The handler normally
 * catches it writing (stderr says it removed the unfinished output); on a loaded machine it may
 * have finished the rename already, and then the output must be the complete new one. Retries
 * until a run is caught writing; returns the outcomes.
 */
async function interruptMerge(
  extra: string[],
  folder: string,
  signal: 'SIGINT' | 'SIGTERM',
  before?: () => Promise<void>,
): Promise<{ caught: boolean; newOutput: Map<string, Buffer> }> {
  const ref = join(dir, `ref-${signal}`);
  await timedRun(mergeArgs(ref), dir);
  const newOutput = await snapshot(ref);
  const out = join(folder, 'merged');
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await rm(out, { recursive: true, force: true });
    if (before) await before();
    const child = spawnFmn(mergeArgs(out, extra));
    const seen = await untilTemp(child, folder);
    const r = await child.stop(signal);
    const left = (await readdir(folder)).filter((f) => f !== 'merged');
    expect(left, 'temps left').toEqual([]);
    if (seen && r.stderr.includes('unfinished outputs removed')) {
      expectCleanExit(r, signal, true);
      return { caught: true, newOutput };
    }
    // finished before the signal was handled: the complete new output
    if (r.code !== 0) expectCleanExit(r, signal, false);
    expect(sameFiles(await snapshot(out), newOutput), 'a finished run left its complete output').toBe(true);
  }
  return { caught: false, newOutput };
}

describe('signals', () => {
  it('SIGINT while merge writes: exit 130 within 1 s, one line, no temp and no output left', async () => {
    const folder = join(dir, 'int');
    await mkdir(folder);
    const { caught } = await interruptMerge([], folder, 'SIGINT');
    expect(caught, `no run caught writing in ${ATTEMPTS} attempts`).toBe(true);
    expect(await readdir(folder)).toEqual([]);
  });

  it('SIGTERM while merge --force replaces an output: exit 143, the previous output intact, no temp left', async () => {
    const old = join(dir, 'old');
    await timedRun(mergeArgs(old, ['--lambda', '0.2', '0.8']), dir);
    const previous = await snapshot(old);
    const folder = join(dir, 'term');
    await mkdir(folder);
    const out = join(folder, 'merged');
    const { caught } = await interruptMerge(['--force'], folder, 'SIGTERM', () =>
      cp(old, out, { recursive: true }),
    );
    expect(caught, `no run caught writing in ${ATTEMPTS} attempts`).toBe(true);
    expect(await readdir(folder)).toEqual(['merged']);
    expect(sameFiles(await snapshot(out), previous), 'the previous output is intact').toBe(true);
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
    // into the computation, before the write: too early (the default handler, before fmn installs
    // its own, killed it) waits longer next time, too late (it finished) shorter
    let r: Stopped | undefined;
    let delay = 0.6 * firstTemp;
    for (let attempt = 0; attempt < ATTEMPTS && r?.code !== 130; attempt++) {
      const child = spawnFmn(args(join(folder, 'f.safetensors')));
      await new Promise((done) => setTimeout(done, delay));
      r = await child.stop('SIGINT');
      if (r.code === 0) await rm(join(folder, 'f.safetensors'));
      delay *= r.code === 0 ? 0.6 : 1.5;
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
      while (child.running() && !(await pathExists(out))) await new Promise((done) => setTimeout(done, 5));
      if (await untilTemp(child, out)) r = await child.stop('SIGINT');
      else expect((await child.exited).code).toBe(0);
    }
    expect(r, `no scratch folder seen in ${ATTEMPTS} runs`).toBeDefined();
    expectCleanExit(r!, 'SIGINT', true);
    const left = await readdir(out);
    expect(left.filter((f) => f.includes('.fmn-'))).toEqual([]);
  });
});
