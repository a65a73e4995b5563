/**
 * SIGKILL at random moments (issue 18): `fmn merge` into a fresh --out, `fmn merge --force` over an
 * existing output, and `fmn fisher`, 20 trials each. The delays are seeded (FMN_KILL_SEED, printed
 * with every failure) and spread over the command's measured run time. After each kill the --out
 * path holds nothing, the old complete output or the complete new one (compared byte for byte
 * with a reference run, and loaded), never a partial one; whatever else is left beside it is
 * named as fmn's temps; the rerun succeeds and leaves only the output.
 */
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, parseFmnTempName, pathExists } from '@fmn/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from './helpers.js';
import { seededRandom, snapshot, spawnFmn, tempsBeside, timedRun, untilTemp } from './interrupt.js';

const TRIALS = 20;
const SEED = Number(process.env.FMN_KILL_SEED ?? 18_2026);
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
const fisherArgs = (out: string) => [
  'fisher',
  '--model',
  join(fx, 'bert', 'two-labels'),
  '--data',
  join(fx, 'data', 'two.tsv'),
  '--samples',
  'all',
  '--batch-size',
  '4',
  '--backend',
  'onnxruntime',
  '--out',
  out,
];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('fmn-kill-')));
afterAll(() => cleanup());

type Snapshot = Map<string, Buffer>;

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);
}

/** Loads a merge output: the report parses, and every model folder it names has its files, whose weights load. */
async function loadMergeOutput(out: string, files: Snapshot): Promise<void> {
  const report = JSON.parse(files.get('merge-report.json')!.toString()) as { inputs: { output: string }[] };
  expect(report.inputs).toHaveLength(2);
  for (const { output } of report.inputs) {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt'])
      expect(files.has(`${output}/${f}`), `${output}/${f}`).toBe(true);
    JSON.parse(files.get(`${output}/config.json`)!.toString());
    const st = await SafetensorsFile.open(join(out, output, 'model.safetensors'));
    try {
      for (const name of st.names()) expect((await st.read(name)).bytes.length).toBeGreaterThan(0);
    } finally {
      await st.close();
    }
  }
}

/** What the output path holds: 'missing', 'old', 'new' or 'partial' (anything else). */
async function judge(path: string, refs: { old?: Snapshot; new: Snapshot }, isDir: boolean): Promise<string> {
  if (!(await pathExists(path))) return 'missing';
  const files = isDir ? await snapshot(path) : await snapshotFile(path);
  if (sameSnapshot(files, refs.new)) return 'new';
  if (refs.old && sameSnapshot(files, refs.old)) return 'old';
  return 'partial';
}

async function snapshotFile(path: string): Promise<Snapshot> {
  const { readFile } = await import('node:fs/promises');
  return new Map([['', await readFile(path)]]);
}

/** The mask Fisher's tensors (the metadata records the run time, so files differ byte-wise). */
async function fisherTensors(path: string): Promise<Snapshot> {
  const st = await SafetensorsFile.open(path);
  try {
    const out: Snapshot = new Map();
    for (const name of st.names()) out.set(name, Buffer.from((await st.read(name)).bytes));
    expect(st.metadata.format).toBe('fmn-mask-fisher');
    return out;
  } finally {
    await st.close();
  }
}

interface Case {
  name: string;
  /** the output's name inside a trial's folder */
  out: string;
  args: (out: string, force: boolean) => string[];
  /** writes the previous output into `out` (the --force case) */
  old?: (out: string) => Promise<void>;
  /** the output's state: 'missing' | 'old' | 'new' | 'partial' */
  state: (out: string) => Promise<string>;
}

let mergeRefs: { old: Snapshot; new: Snapshot; oldDir: string };
let fisherRef: Snapshot;
/** per command: the run time, and when its first temp appeared (ms) */
const timing: Record<string, { total: number; firstTemp: number }> = {};

beforeAll(async () => {
  const refNew = join(dir, 'ref-new');
  const refOld = join(dir, 'ref-old');
  timing.merge = await timedRun(mergeArgs(refNew), dir);
  await timedRun(mergeArgs(refOld, ['--lambda', '0.2', '0.8']), dir);
  mergeRefs = { new: await snapshot(refNew), old: await snapshot(refOld), oldDir: refOld };
  await loadMergeOutput(refNew, mergeRefs.new);
  expect(sameSnapshot(mergeRefs.new, mergeRefs.old)).toBe(false);
  timing.fisher = await timedRun(fisherArgs(join(dir, 'ref.safetensors')), dir);
  fisherRef = await fisherTensors(join(dir, 'ref.safetensors'));
}, 60_000);

const cases: Case[] = [
  {
    name: 'fmn merge into a fresh --out',
    out: 'merged',
    args: (out, force) => mergeArgs(out, force ? ['--force'] : []),
    state: async (out) => {
      const s = await judge(out, { new: mergeRefs.new }, true);
      if (s === 'new') await loadMergeOutput(out, await snapshot(out));
      return s;
    },
  },
  {
    name: 'fmn merge --force over an existing output',
    out: 'merged',
    args: (out) => mergeArgs(out, ['--force']),
    old: (out) => cp(mergeRefs.oldDir, out, { recursive: true }),
    state: async (out) => {
      const s = await judge(out, mergeRefs, true);
      if (s === 'new' || s === 'old') await loadMergeOutput(out, await snapshot(out));
      return s;
    },
  },
  {
    name: 'fmn fisher',
    out: 'fisher.safetensors',
    args: (out, force) => [...fisherArgs(out), ...(force ? ['--force'] : [])],
    state: async (out) => {
      if (!(await pathExists(out))) return 'missing';
      try {
        return sameSnapshot(await fisherTensors(out), fisherRef) ? 'new' : 'partial';
      } catch {
        return 'partial';
      }
    },
  },
];

describe(`SIGKILL at random moments (seed ${SEED}; replay with FMN_KILL_SEED=${SEED})`, () => {
  for (const [index, c] of cases.entries()) {
    it(`${c.name}: ${TRIALS} trials leave nothing, the old or the new complete output, and fmn temps the rerun cleans`, async () => {
      const random = seededRandom(SEED + index);
      const t = timing[c.name.startsWith('fmn fisher') ? 'fisher' : 'merge'];
      const states: string[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        // a third of the kills anywhere in the run, two thirds while it writes: once its first temp
        // appears, within the time the reference run took from there to its end
        const whileWriting = trial % 3 !== 0;
        const delay = Math.round(random() * (whileWriting ? t.total - t.firstTemp : t.total));
        const where = `${c.name}, seed ${SEED}, trial ${trial}, SIGKILL ${delay} ms after ${whileWriting ? 'its first temp appeared' : 'the start'} (reference run ${Math.round(t.total)} ms, first temp at ${Math.round(t.firstTemp)} ms)`;
        const folder = join(dir, `${index}-${trial}`);
        await mkdir(folder);
        const out = join(folder, c.out);
        if (c.old) await c.old(out);
        const child = spawnFmn(c.args(out, c.old !== undefined));
        if (whileWriting) await untilTemp(child, folder);
        await new Promise((r) => setTimeout(r, delay));
        const r = await child.stop('SIGKILL');
        expect(r.signal === 'SIGKILL' || r.code === 0, `${where}: ${r.stderr}`).toBe(true);
        const state = await c.state(out);
        expect(['missing', c.old ? 'old' : 'missing', 'new'], `${where}: the output is ${state}`).toContain(
          state,
        );
        const left = await tempsBeside(folder, c.out);
        expect(left.other, `${where}: files beside the output not named as fmn temps`).toEqual([]);
        states.push(
          `${state}${left.fmn.length > 0 ? `+${left.fmn.map((f) => parseFmnTempName(f)?.kind).join('+')}` : ''}`,
        );
        // the rerun recovers, succeeds and cleans up; a kill after the run had finished cleanly (the
        // new output, nothing beside it) leaves nothing to recover, so every 4th such rerun is enough
        if (state === 'new' && left.fmn.length === 0 && trial % 4 !== 0) continue;
        const again = await spawnFmn(c.args(out, c.old !== undefined || state !== 'missing')).exited;
        expect(again.code, `${where}: the rerun failed:\n${again.stderr}`).toBe(0);
        expect(await c.state(out), `${where}: after the rerun`).toBe('new');
        expect((await tempsBeside(folder, c.out)).fmn, `${where}: temps left after the rerun`).toEqual([]);
      }
      // the output's state after each kill, +tmp/+old for the fmn temps left beside it
      console.log(
        `${c.name}, seed ${SEED}, first temp at ${Math.round(t.firstTemp)} of ${Math.round(t.total)} ms: ${states.join(' ')}`,
      );
    }, 300_000);
  }
});
