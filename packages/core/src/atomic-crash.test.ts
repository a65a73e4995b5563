/**
 * Kills at every step of an atomic write: a child process runs atomic.ts (transpiled from this
 * source) with node:fs/promises wrapped so that the k-th file-system call first kills the process
 * (SIGKILL), or runs the signal handler's cleanup (`removeLiveTempsSync`) and exits, for every k.
 * Whatever k, the output path holds nothing, the old complete output or the new complete one; a
 * SIGKILL leaves only fmn-named temps, which the next run's recovery restores or removes; the
 * signal cleanup leaves nothing at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { recoverOutput } from './recover-output.js';
import { parseFmnTempName } from './temp-name.js';

const SRC = dirname(fileURLToPath(import.meta.url));
/** atomic.ts and everything it imports from core */
const MODULES = ['atomic.ts', 'errors.ts', 'path-exists.ts', 'recover-output.ts', 'temp-name.ts'];

const CHILD = `
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
const require = createRequire(import.meta.url);
const fsp = require('node:fs/promises');
const [what, dest, stopAtText, how, when] = process.argv.slice(2);
const stopAt = Number(stopAtText);
let calls = 0;
let cleanup = () => [];
const stop = () => {
  if (how === 'kill') process.kill(process.pid, 'SIGKILL');
  cleanup();
  process.exit(130);
};
/** counts a call; stops the process before (or after) the stopAt-th */
const step = async (run) => {
  calls += 1;
  const here = calls === stopAt;
  if (here && when === 'before') stop();
  const result = await run();
  if (here) stop();
  return result;
};
for (const name of ['open', 'rename', 'rm', 'mkdir', 'stat', 'readdir', 'writeFile']) {
  const original = fsp[name];
  fsp[name] = (...args) => step(() => original(...args));
}
syncBuiltinESMExports();
const atomic = await import('./atomic.js');
cleanup = atomic.removeLiveTempsSync;
if (what === 'dir') {
  await atomic.atomicDir(dest, async (tmp) => {
    for (const f of ['a', 'b', 'c']) await fsp.writeFile(join(tmp, f), 'new ' + f);
  }, { force: true });
} else if (what === 'pair') {
  await atomic.atomicFiles([dest, dest + '_data'], async (tmp) => {
    await fsp.writeFile(join(tmp, basename(dest) + '_data'), 'new d');
    await fsp.writeFile(join(tmp, basename(dest)), 'new g');
  }, { force: true });
} else {
  await atomic.atomicFile(dest, async (fh) => {
    for (const f of ['a', 'b', 'c']) await step(() => fh.write('new ' + f + ';'));
  });
}
console.log(calls);
`;

let childDir: string;

beforeAll(async () => {
  childDir = await mkdtemp(join(tmpdir(), 'fmn-core-crash-'));
  for (const m of MODULES) {
    const source = await readFile(join(SRC, m), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await writeFile(join(childDir, m.replace(/\.ts$/, '.js')), js);
  }
  await writeFile(join(childDir, 'package.json'), '{"type": "module"}');
  await writeFile(join(childDir, 'child.js'), CHILD);
});

afterAll(() => rm(childDir, { recursive: true, force: true }));

function child(
  what: What,
  dest: string,
  stopAt: number,
  how: 'kill' | 'signal',
  when: 'before' | 'after' = 'before',
) {
  return spawnSync(process.execPath, [join(childDir, 'child.js'), what, dest, String(stopAt), how, when], {
    encoding: 'utf8',
  });
}

type What = 'dir' | 'file' | 'pair';
/** 'stray': a pair's new data file without its graph (then --out, the graph, is missing) */
type State = 'missing' | 'old' | 'new' | 'partial' | 'stray';

const read = (path: string): Promise<string | undefined> =>
  readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });

async function stateOf(what: What, dest: string): Promise<State> {
  if (what === 'pair') {
    const pair = `${await read(dest)}|${await read(`${dest}_data`)}`;
    const states: Record<string, State> = {
      'undefined|undefined': 'missing',
      'undefined|old d': 'missing', // the graph moved aside first
      'old g|old d': 'old',
      'new g|new d': 'new',
      'undefined|new d': 'stray',
    };
    return states[pair] ?? 'partial';
  }
  let text: string;
  try {
    if (what === 'dir') {
      const files = (await readdir(dest)).sort();
      text = (
        await Promise.all(files.map(async (f) => `${f}=${await readFile(join(dest, f), 'utf8')}`))
      ).join('|');
    } else {
      text = await readFile(dest, 'utf8');
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  if (text === (what === 'dir' ? 'x=old x|y=old y' : 'old x;old y;')) return 'old';
  if (text === (what === 'dir' ? 'a=new a|b=new b|c=new c' : 'new a;new b;new c;')) return 'new';
  return 'partial';
}

async function writeOld(what: What, dest: string): Promise<void> {
  if (what === 'pair') {
    await writeFile(dest, 'old g');
    return writeFile(`${dest}_data`, 'old d');
  }
  if (what === 'file') return writeFile(dest, 'old x;old y;');
  await mkdir(dest);
  for (const f of ['x', 'y']) await writeFile(join(dest, f), `old ${f}`);
}

const NAMES = { dir: 'atomicDir', file: 'atomicFile', pair: 'atomicFiles (a graph and its data)' };

for (const what of ['dir', 'file', 'pair'] as const) {
  const outputs = what === 'pair' ? ['out', 'out_data'] : ['out'];
  for (const replacing of [false, true]) {
    describe(`${NAMES[what]} ${replacing ? 'replacing an existing output' : 'into a fresh path'}`, () => {
      it('stopped at every file-system call: never a partial output; SIGKILL leaves fmn temps the next run recovers; the signal cleanup leaves none', async () => {
        const base = await tempDir();
        if (replacing) await writeOld(what, join(base, 'probe'));
        const full = child(what, join(base, 'probe'), 0, 'kill');
        expect(full.status, full.stderr).toBe(0);
        const calls = Number(full.stdout.trim());
        expect(calls).toBeGreaterThan(5);
        const seen = new Set<string>();
        // before each call, and after the last one
        const points = [
          ...Array.from({ length: calls }, (_, i) => ({ k: i + 1, when: 'before' as const })),
          { k: calls, when: 'after' as const },
        ];
        for (const { k, when } of points) {
          for (const how of ['kill', 'signal'] as const) {
            const dir = join(base, `${how}-${when}-${k}`);
            await mkdir(dir);
            const dest = join(dir, 'out');
            if (replacing) await writeOld(what, dest);
            const r = child(what, dest, k, how, when);
            const at = `stopped (${how}) ${when} call ${k} of ${calls}`;
            expect(how === 'kill' ? r.signal : r.status, `${at}: ${r.stderr}`).toBe(
              how === 'kill' ? 'SIGKILL' : 130,
            );
            const state = await stateOf(what, dest);
            seen.add(`${how}:${state}`);
            expect(state, at).not.toBe('partial');
            const others = (await readdir(dir)).filter((f) => !outputs.includes(f));
            if (how === 'signal') {
              // the handler restores a replacement caught midway and removes every temp
              if (replacing) expect(['old', 'new'], at).toContain(state);
              else expect(['missing', 'new'], at).toContain(state);
              expect(others, at).toEqual([]);
              continue;
            }
            for (const f of others) expect(outputs, `${at}: ${f}`).toContain(parseFmnTempName(f)?.target);
            await recoverOutput(dest);
            if (what === 'pair') await recoverOutput(`${dest}_data`);
            const after = await stateOf(what, dest);
            expect(after, `${at}, after recovery`).not.toBe('partial');
            if (replacing) expect(['old', 'new'], `${at}, after recovery`).toContain(after);
            // a kill of a fresh pair between its renames may leave the new data file alone
            if (state !== 'missing' && !(replacing && state === 'stray'))
              expect(after, `${at}, after recovery`).toBe(state);
            const left = (await readdir(dir)).filter((f) => !outputs.includes(f));
            expect(left, `${at}, after recovery`).toEqual([]);
          }
        }
        // the walk went through the whole write: before it (old or nothing) and after it (new)
        expect(seen.has(`kill:${replacing ? 'old' : 'missing'}`)).toBe(true);
        expect(seen.has('kill:new'), [...seen].join(' ')).toBe(true);
        if (replacing && what !== 'file') expect(seen.has('kill:missing')).toBe(true); // the window between the renames
      }, 120_000);
    });
  }
}
