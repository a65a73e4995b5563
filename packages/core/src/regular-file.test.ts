import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regularFileSize } from './regular-file.js';

const dir = mkdtempSync(join(tmpdir(), 'fmn-regular-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regularFileSize', () => {
  it('gives the size of a regular file and of a symlink to one; undefined when nothing is there', async () => {
    writeFileSync(join(dir, 'vocab.txt'), 'abc\n');
    symlinkSync(join(dir, 'vocab.txt'), join(dir, 'link.txt'));
    expect(await regularFileSize(join(dir, 'vocab.txt'))).toBe(4);
    expect(await regularFileSize(join(dir, 'link.txt'))).toBe(4);
    expect(await regularFileSize(join(dir, 'missing.txt'))).toBeUndefined();
    expect(await regularFileSize(join(dir, 'vocab.txt', 'below-a-file'))).toBeUndefined();
  });

  it('a FIFO, a device, a folder or a file over the cap is an error naming the path', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const zero = join(dir, 'zero');
    symlinkSync('/dev/zero', zero);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    await expect(regularFileSize(fifo)).rejects.toThrow(
      `${fifo}: is a FIFO (named pipe), a regular file was expected`,
    );
    await expect(regularFileSize(zero)).rejects.toThrow(`${zero}: is a device, a regular file was expected`);
    await expect(regularFileSize(folder)).rejects.toThrow(
      `${folder}: is a folder, a regular file was expected`,
    );
    await expect(regularFileSize(join(dir, 'vocab.txt'), 3)).rejects.toThrow(
      'is 4 bytes, more than the 3 this kind of file may have',
    );
  });
});
