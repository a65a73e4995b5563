import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI_DIR, fmn, ok, tempDir, userError } from './helpers.js';

const TINY_TORCH = join(CLI_DIR, '..', '..', 'packages', 'core', 'src', 'torch', 'fixtures', 'tiny-bert');
const HASH = '5f7c0d3a9e1b2c4d6f8a0b1c2d3e4f5a6b7c8d9e';

const fx = inject('fx');
let dir: string;
let cache: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // a hub cache as `huggingface-cli download textattack/tiny-bert` leaves it (files copied, not linked)
  cache = join(dir, 'hub');
  const repo = join(cache, 'models--textattack--tiny-bert');
  await mkdir(join(repo, 'refs'), { recursive: true });
  await writeFile(join(repo, 'refs', 'main'), HASH);
  await cp(TINY_TORCH, join(repo, 'snapshots', HASH), { recursive: true });
  const other = join(cache, 'models--JeremiahZ--tiny-bert-mnli');
  await mkdir(join(other, 'refs'), { recursive: true });
  await writeFile(join(other, 'refs', 'main'), HASH);
  await cp(TINY_TORCH, join(other, 'snapshots', HASH), { recursive: true });
});
afterAll(() => cleanup());

describe('org/name from the HuggingFace hub cache', () => {
  it('inspect, predict and convert take a repo id resolved offline from $HF_HUB_CACHE', async () => {
    const env = { HF_HUB_CACHE: cache };
    const info = JSON.parse(await ok(['inspect', 'textattack/tiny-bert', '--json'], { env })) as {
      path: string;
    };
    expect(info.path).toBe(join(cache, 'models--textattack--tiny-bert', 'snapshots', HASH));
    const p = join(dir, 'p.jsonl');
    const q = join(dir, 'q.jsonl');
    const data = join(fx, 'data', 'two.tsv');
    await ok(
      ['predict', '--model', 'textattack/tiny-bert', '--data', data, '--out', p, '--backend', 'onnxruntime'],
      {
        env,
      },
    );
    await ok(['predict', '--model', TINY_TORCH, '--data', data, '--out', q, '--backend', 'onnxruntime']);
    expect(await readFile(p, 'utf8')).toBe(await readFile(q, 'utf8'));
    await ok(['convert', 'textattack/tiny-bert', '--out', join(dir, 'st')], { env });
  });

  it('merge takes repo ids and names the output folders after the repos, not the snapshot hashes', async () => {
    const out = join(dir, 'merged');
    await ok(
      [
        'merge',
        '--method',
        'average',
        '--model',
        'textattack/tiny-bert',
        '--model',
        'JeremiahZ/tiny-bert-mnli',
        '--out',
        out,
      ],
      {
        env: { HF_HUB_CACHE: cache },
      },
    );
    const folders = (await readdir(out, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.sort()).toEqual(['tiny-bert', 'tiny-bert-mnli']);
  });

  it('$HF_HOME/hub is used when $HF_HUB_CACHE is not set', async () => {
    const r = await fmn(['inspect', 'textattack/tiny-bert', '--json'], {
      env: { HF_HUB_CACHE: '', HF_HOME: dir },
    });
    expect(r.code).toBe(0);
  });

  it('not in the cache: one line naming where fmn looked and the download command', async () => {
    const line = userError(
      await fmn(['inspect', 'JeremiahZ/bert-base-uncased-mnli'], { env: { HF_HUB_CACHE: cache } }),
    );
    expect(line).toContain(join(cache, 'models--JeremiahZ--bert-base-uncased-mnli'));
    expect(line).toContain('huggingface-cli download JeremiahZ/bert-base-uncased-mnli');
  });
});
