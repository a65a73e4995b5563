import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelHash } from './hash.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('modelHash', () => {
  it('covers PyTorch weights (pytorch_model.bin, its shards and index) and not a README', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-hash-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.json'), '{}');
    await writeFile(join(dir, 'pytorch_model.bin'), 'a');
    const h1 = await modelHash(dir);
    await writeFile(join(dir, 'README.md'), 'notes');
    expect(await modelHash(dir)).toBe(h1);
    await writeFile(join(dir, 'pytorch_model.bin'), 'b');
    const h2 = await modelHash(dir);
    expect(h2).not.toBe(h1);
    await writeFile(join(dir, 'pytorch_model-00001-of-00002.bin'), 'c');
    const h3 = await modelHash(dir);
    expect(h3).not.toBe(h2);
    await writeFile(join(dir, 'pytorch_model.bin.index.json'), '{}');
    expect(await modelHash(dir)).not.toBe(h3);
  });
});
