import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { processAlive, recoverOutput } from './recover-output.js';

/** The pid of a process that has exited (spawned and waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.pid).toBeGreaterThan(0);
  expect(processAlive(r.pid)).toBe(false);
  return r.pid;
}

async function folder(path: string, files: Record<string, string>): Promise<void> {
  await mkdir(path, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(join(path, f), text);
}

async function contents(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(path)).sort()) out[f] = await readFile(join(path, f), 'utf8');
  return out;
}

describe('recoverOutput', () => {
  it('restores the backup of a --force replacement killed between its two renames', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    await folder(join(dir, `.out.fmn-old-${pid}-0000000a`), { 'x.txt': 'old' });
    await folder(join(dir, `.out.fmn-tmp-${pid}-0000000a`), { 'y.txt': 'new, maybe complete' });
    const r = await recoverOutput(join(dir, 'out'));
    expect(r.restored).toBe(join(dir, `.out.fmn-old-${pid}-0000000a`));
    expect(r.removed).toEqual([join(dir, `.out.fmn-tmp-${pid}-0000000a`)]);
    expect(await readdir(dir)).toEqual(['out']);
    expect(await contents(join(dir, 'out'))).toEqual({ 'x.txt': 'old' });
  });

  it('beside an existing output, removes stale temps and backups and keeps the output', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    await folder(join(dir, 'out'), { 'n.txt': 'new' });
    await folder(join(dir, `.out.fmn-old-${pid}-0000000b`), { 'x.txt': 'half-deleted old' });
    await writeFile(join(dir, `.out.fmn-tmp-${pid}-0000000c`), 'partial');
    const r = await recoverOutput(join(dir, 'out'));
    expect(r.restored).toBeUndefined();
    expect(r.removed.sort()).toEqual(
      [join(dir, `.out.fmn-old-${pid}-0000000b`), join(dir, `.out.fmn-tmp-${pid}-0000000c`)].sort(),
    );
    expect(await readdir(dir)).toEqual(['out']);
    expect(await contents(join(dir, 'out'))).toEqual({ 'n.txt': 'new' });
  });

  it("leaves running processes' temps, other outputs' temps and other files alone", async () => {
    const dir = await tempDir();
    const pid = deadPid();
    const keep = [
      `.out.fmn-tmp-${process.pid}-0000000d`, // this process: still writing
      `.other.fmn-tmp-${pid}-0000000e`, // another output's: its own next run cleans it
      '.out.tmp-1-abcdef01', // not fmn's pattern
      'notes.txt',
    ];
    for (const f of keep) await writeFile(join(dir, f), 'x');
    const r = await recoverOutput(join(dir, 'out'));
    expect(r).toEqual({ restored: undefined, removed: [] });
    expect((await readdir(dir)).sort()).toEqual([...keep].sort());
  });

  it('files replaced together go back together while any of them is missing', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    // killed after the new weights were renamed in, before the new graph: the old pair goes back
    await writeFile(join(dir, `.m.onnx.fmn-old-${pid}-0000000f`), 'old graph');
    await writeFile(join(dir, `.m.onnx_data.fmn-old-${pid}-0000000f`), 'old data');
    await writeFile(join(dir, 'm.onnx_data'), 'new data');
    // the data's own recovery (run first) already sees that the graph is missing
    const r = await recoverOutput(join(dir, 'm.onnx_data'));
    expect(r.restored).toBe(join(dir, `.m.onnx_data.fmn-old-${pid}-0000000f`));
    expect(await recoverOutput(join(dir, 'm.onnx'))).toEqual({ removed: [] });
    expect((await readdir(dir)).sort()).toEqual(['m.onnx', 'm.onnx_data']);
    expect(await readFile(join(dir, 'm.onnx'), 'utf8')).toBe('old graph');
    expect(await readFile(join(dir, 'm.onnx_data'), 'utf8')).toBe('old data');
  });

  it('once every file of the set is in place, their backups are deleted', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    await writeFile(join(dir, `.m.onnx.fmn-old-${pid}-00000010`), 'old graph');
    await writeFile(join(dir, `.m.onnx_data.fmn-old-${pid}-00000010`), 'old data');
    await writeFile(join(dir, 'm.onnx'), 'new graph');
    await writeFile(join(dir, 'm.onnx_data'), 'new data');
    await recoverOutput(join(dir, 'm.onnx'));
    await recoverOutput(join(dir, 'm.onnx_data'));
    expect((await readdir(dir)).sort()).toEqual(['m.onnx', 'm.onnx_data']);
    expect(await readFile(join(dir, 'm.onnx'), 'utf8')).toBe('new graph');
  });

  it('a missing folder is nothing to recover', async () => {
    const dir = await tempDir();
    expect(await recoverOutput(join(dir, 'no', 'such', 'out'))).toEqual({ removed: [] });
  });

  it('processAlive: this process and its parent run, an exited child does not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(process.ppid)).toBe(true);
    deadPid();
  });
});
