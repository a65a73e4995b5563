import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { expectFmnError, tempDir } from '../test/helpers.js';
import {
  atomicDir,
  atomicFile,
  atomicFiles,
  registerLiveTemp,
  removeLiveTempsSync,
  writeFileAtomic,
} from './atomic.js';
import { parseFmnTempName } from './temp-name.js';

describe('atomicFile / writeFileAtomic', () => {
  it('writes the file, creating missing parent folders, with no temp file left', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a', 'b', 'out.txt');
    await writeFileAtomic(path, 'hello');
    expect(await readFile(path, 'utf8')).toBe('hello');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['out.txt']);
  });

  it('replaces an existing file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.bin');
    await writeFile(path, 'old contents, longer');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('a failure midway leaves no file and no temp file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.bin');
    await expect(
      atomicFile(path, async (fh) => {
        await fh.write(Buffer.from('partial'));
        expect(await readdir(dir)).toHaveLength(1); // only the temp file exists meanwhile
        throw new Error('midway');
      }),
    ).rejects.toThrow('midway');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failure midway keeps the previous file untouched', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.bin');
    await writeFile(path, 'previous');
    await expect(
      atomicFile(path, async (fh) => {
        await fh.write(Buffer.from('new'));
        throw new Error('midway');
      }),
    ).rejects.toThrow('midway');
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('concurrent writers to one path use separate temp files; one of them wins whole', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.txt');
    await Promise.all(
      ['a'.repeat(1000), 'b'.repeat(1000), 'c'.repeat(1000)].map((s) => writeFileAtomic(path, s)),
    );
    expect(await readFile(path, 'utf8')).toMatch(/^(a{1000}|b{1000}|c{1000})$/);
    expect(await readdir(dir)).toEqual(['out.txt']);
  });
});

describe('atomicDir', () => {
  it('builds the folder in a temp folder and renames it into place', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    await atomicDir(target, async (tmp) => {
      expect(tmp).not.toBe(target);
      expect(await readdir(dir)).toHaveLength(1); // the temp folder only, no target yet
      await writeFile(join(tmp, 'x.txt'), 'x');
    });
    expect(await readdir(target)).toEqual(['x.txt']);
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('refuses an existing folder unless force, and touches nothing', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    await mkdir(target);
    await writeFile(join(target, 'old.txt'), 'old');
    let built = false;
    await expectFmnError(
      atomicDir(target, async () => {
        built = true;
      }),
      /output folder already exists/,
      target,
    );
    expect(built).toBe(false);
    expect(await readdir(target)).toEqual(['old.txt']);
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('with force, replaces the folder only after the new one is complete', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    await mkdir(target);
    await writeFile(join(target, 'old.txt'), 'old');
    await atomicDir(
      target,
      async (tmp) => {
        await writeFile(join(tmp, 'new1.txt'), '1');
        // still the old folder while the new one is being built
        expect(await readdir(target)).toEqual(['old.txt']);
        await writeFile(join(tmp, 'new2.txt'), '2');
      },
      { force: true },
    );
    expect((await readdir(target)).sort()).toEqual(['new1.txt', 'new2.txt']);
    expect(await readdir(dir)).toEqual(['out']); // no temp or .old folder left
  });

  it('a failed build leaves nothing behind (and with force keeps the old folder)', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    await expect(
      atomicDir(target, async (tmp) => {
        await writeFile(join(tmp, 'half.txt'), 'h');
        throw new Error('build failed');
      }),
    ).rejects.toThrow('build failed');
    expect(await readdir(dir)).toEqual([]);

    await mkdir(target);
    await writeFile(join(target, 'old.txt'), 'old');
    await expect(
      atomicDir(
        target,
        async () => {
          throw new Error('build failed again');
        },
        { force: true },
      ),
    ).rejects.toThrow('build failed again');
    expect(await readdir(target)).toEqual(['old.txt']);
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('without force, a folder that appears during the build is not overwritten', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    await expectFmnError(
      atomicDir(target, async (tmp) => {
        await writeFile(join(tmp, 'mine.txt'), 'm');
        await mkdir(target);
        await writeFile(join(target, 'theirs.txt'), 't');
      }),
      /appeared while it was being built/,
      target,
    );
    expect(await readdir(target)).toEqual(['theirs.txt']);
    expect(await readdir(dir)).toEqual(['out']);
  });
});

describe('temps of killed runs and of this process', () => {
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

  it('atomicDir without force: a backup left by a killed --force run is restored, then refused as existing', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out');
    const pid = deadPid();
    await mkdir(join(dir, `.out.fmn-old-${pid}-12345678`));
    await writeFile(join(dir, `.out.fmn-old-${pid}-12345678`, 'old.txt'), 'old');
    await mkdir(join(dir, `.out.fmn-tmp-${pid}-12345678`));
    await expectFmnError(
      atomicDir(target, async () => undefined),
      /restored from an interrupted --force run; use --force/,
      target,
    );
    expect(await readdir(dir)).toEqual(['out']);
    expect(await readFile(join(target, 'old.txt'), 'utf8')).toBe('old');
  });

  it('atomicFile removes stale temps of its output before writing', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    await writeFile(join(dir, `.f.bin.fmn-tmp-${pid}-abcdef01`), 'half');
    await writeFileAtomic(join(dir, 'f.bin'), 'whole');
    expect(await readdir(dir)).toEqual(['f.bin']);
  });

  it('temps in use are fmn-named, and removeLiveTempsSync removes them (registered ones too)', async () => {
    const dir = await tempDir();
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const unregister = registerLiveTemp(scratch);
    let release!: () => void;
    const building = atomicDir(join(dir, 'out'), async (tmp) => {
      await writeFile(join(tmp, 'x'), 'x');
      await new Promise<void>((r) => (release = r));
    });
    await vi.waitFor(() => expect(release).toBeDefined());
    const temps = (await readdir(dir)).filter((f) => f !== 'scratch');
    expect(temps).toHaveLength(1);
    expect(parseFmnTempName(temps[0])).toMatchObject({ target: 'out', kind: 'tmp', pid: process.pid });
    expect(removeLiveTempsSync().sort()).toEqual([join(dir, temps[0]), scratch].sort());
    expect(await readdir(dir)).toEqual([]);
    release();
    await expect(building).rejects.toThrow(); // its temp folder is gone
    unregister();
    expect(removeLiveTempsSync()).toEqual([]);
  });
});

describe('atomicFiles', () => {
  it('writes a set of files, refuses existing ones without force, replaces them together with force', async () => {
    const dir = await tempDir();
    const g = join(dir, 'm.onnx');
    const d = join(dir, 'm.onnx_data');
    const write = (text: string) => async (tmp: string) => {
      await writeFile(join(tmp, 'm.onnx_data'), `${text} data`);
      await writeFile(join(tmp, 'm.onnx'), `${text} graph`);
    };
    await atomicFiles([g, d], write('first'));
    expect((await readdir(dir)).sort()).toEqual(['m.onnx', 'm.onnx_data']);
    await expectFmnError(atomicFiles([g, d], write('second')), /already exists \(use --force/, g);
    expect(await readFile(d, 'utf8')).toBe('first data');
    await atomicFiles([g, d], write('second'), { force: true });
    expect([await readFile(g, 'utf8'), await readFile(d, 'utf8')]).toEqual(['second graph', 'second data']);
    expect((await readdir(dir)).sort()).toEqual(['m.onnx', 'm.onnx_data']);
  });

  it('a build that fails, or leaves out a file, changes nothing', async () => {
    const dir = await tempDir();
    const g = join(dir, 'm.onnx');
    await writeFile(g, 'old graph');
    await expect(
      atomicFiles([g, `${g}_data`], async (tmp) => writeFile(join(tmp, 'm.onnx'), 'new graph'), {
        force: true,
      }),
    ).rejects.toThrow('m.onnx_data was not written');
    expect(await readdir(dir)).toEqual(['m.onnx']);
    expect(await readFile(g, 'utf8')).toBe('old graph');
  });
});
