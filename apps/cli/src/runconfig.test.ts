import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { parseRunConfig } from './runconfig.js';

let root: string;
const saved = process.env.HF_HUB_CACHE;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-runconfig-'));
  process.env.HF_HUB_CACHE = join(root, 'empty-cache');
});
afterAll(async () => {
  if (saved === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = saved;
  await rm(root, { recursive: true, force: true });
});

describe('parseRunConfig', () => {
  it('a model that is neither a folder nor in the hub cache is an error of the configuration, naming file and key', () => {
    const file = join(root, 'run.json');
    const task = (name: string) => ({ name, model: root, data: join(root, 'run.json') });
    const text = JSON.stringify({ methods: ['average'], base: 'org/missing', tasks: [task('a'), task('b')] });
    let e: unknown;
    try {
      parseRunConfig(text, file);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(FmnError);
    expect((e as FmnError).message).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid run configuration: "base": "org/missing" is not a folder here`,
      ),
    );
  });
});
