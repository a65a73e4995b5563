import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathExists } from './path-exists.js';

describe('pathExists', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const d of made) await rm(d, { recursive: true, force: true });
  });

  it('is true for a file and a folder, false for a missing name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-exists-'));
    made.push(dir);
    await writeFile(join(dir, 'f.txt'), 'x');
    expect(await pathExists(join(dir, 'f.txt'))).toBe(true);
    expect(await pathExists(dir)).toBe(true);
    expect(await pathExists(join(dir, 'missing'))).toBe(false);
    expect(await pathExists(join(dir, 'f.txt', 'below-a-file'))).toBe(false);
  });
});
