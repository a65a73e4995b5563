import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configModelDir } from './model-path.js';

let dir: string;
const saved = process.env.HF_HUB_CACHE;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmn-model-path-'));
  const repo = join(dir, 'hub', 'models--org--name');
  await mkdir(join(repo, 'refs'), { recursive: true });
  await writeFile(join(repo, 'refs', 'main'), 'b'.repeat(40));
  await mkdir(join(repo, 'snapshots', 'b'.repeat(40)), { recursive: true });
  await mkdir(join(dir, 'cfg', 'models', 'sst2'), { recursive: true });
  process.env.HF_HUB_CACHE = join(dir, 'hub');
});
afterAll(async () => {
  if (saved === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = saved;
  await rm(dir, { recursive: true, force: true });
});

describe('configModelDir (run configuration model paths)', () => {
  it('a path relative to the configuration folder stays a path, even one shaped like org/name', () => {
    const here = join(dir, 'cfg');
    expect(configModelDir(here, 'models/sst2')).toBe(join(here, 'models', 'sst2'));
    expect(configModelDir(here, './missing')).toBe(join(here, 'missing'));
  });

  it('a repo id that is no path there comes from the hub cache', () => {
    expect(configModelDir(join(dir, 'cfg'), 'org/name')).toBe(
      join(dir, 'hub', 'models--org--name', 'snapshots', 'b'.repeat(40)),
    );
    expect(() => configModelDir(join(dir, 'cfg'), 'org/other')).toThrow(
      /huggingface-cli download org\/other/,
    );
  });
});
