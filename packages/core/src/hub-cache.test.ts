import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { hubCacheDir, modelFolderName, parseRepoId, resolveModelDir } from './hub-cache.js';
import { isFmnError } from './errors.js';

const MAIN = 'a'.repeat(40);
const TAGGED = '0123456789abcdef0123456789abcdef01234567';

/** A cache laid out as huggingface_hub writes it: blobs, refs/<rev>, snapshots/<hash>/ with links. */
async function fakeCache(): Promise<string> {
  const cache = await tempDir();
  const repo = join(cache, 'models--textattack--bert-base-uncased-SST-2');
  await mkdir(join(repo, 'blobs'), { recursive: true });
  await mkdir(join(repo, 'refs'), { recursive: true });
  await writeFile(join(repo, 'blobs', 'c0ffee'), '{"model_type": "bert"}');
  await writeFile(join(repo, 'refs', 'main'), `${MAIN}\n`);
  await writeFile(join(repo, 'refs', 'v1'), TAGGED);
  for (const hash of [MAIN, TAGGED]) {
    await mkdir(join(repo, 'snapshots', hash), { recursive: true });
    await symlink(join('..', '..', 'blobs', 'c0ffee'), join(repo, 'snapshots', hash, 'config.json'));
  }
  return cache;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    expect(isFmnError(e)).toBe(true);
    return e as Error;
  }
  throw new Error('expected an FmnError');
}

describe('hub cache', () => {
  it('parses org/name[@revision] and nothing else', () => {
    expect(parseRepoId('textattack/bert-base-uncased-SST-2')).toEqual({
      repo: 'textattack/bert-base-uncased-SST-2',
      revision: 'main',
    });
    expect(parseRepoId('JeremiahZ/bert-base-uncased-mnli@v1.0')).toEqual({
      repo: 'JeremiahZ/bert-base-uncased-mnli',
      revision: 'v1.0',
    });
    for (const no of ['bert-base-uncased', './models/sst2', '/abs/x', 'a/b/c', '../x', 'a/..', 'org/name@']) {
      expect(parseRepoId(no), no).toBeUndefined();
    }
  });

  it('names a snapshot folder after its repo, any other folder after itself', () => {
    expect(
      modelFolderName(join('/c', 'models--textattack--bert-base-uncased-SST-2', 'snapshots', MAIN)),
    ).toBe('bert-base-uncased-SST-2');
    expect(modelFolderName('/models/sst2/')).toBe('sst2');
    expect(modelFolderName(join('/x', 'snapshots', MAIN))).toBe(MAIN);
  });

  it('chooses the cache folder as huggingface_hub does', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }, '/home/u')).toBe('/c');
    expect(hubCacheDir({ HF_HOME: '/h' }, '/home/u')).toBe(join('/h', 'hub'));
    expect(hubCacheDir({}, '/home/u')).toBe(join('/home/u', '.cache', 'huggingface', 'hub'));
  });

  it('resolves refs/main, refs/<tag> and a commit hash to the snapshot folder', async () => {
    const cache = await fakeCache();
    const env = { HF_HUB_CACHE: cache };
    const repo = join(cache, 'models--textattack--bert-base-uncased-SST-2');
    expect(resolveModelDir('textattack/bert-base-uncased-SST-2', env)).toBe(join(repo, 'snapshots', MAIN));
    expect(resolveModelDir('textattack/bert-base-uncased-SST-2@v1', env)).toBe(
      join(repo, 'snapshots', TAGGED),
    );
    expect(resolveModelDir(`textattack/bert-base-uncased-SST-2@${TAGGED}`, env)).toBe(
      join(repo, 'snapshots', TAGGED),
    );
    // through $HF_HOME/hub and ~/.cache/huggingface/hub too
    const home = await tempDir();
    await mkdir(join(home, '.cache', 'huggingface'), { recursive: true });
    await symlink(cache, join(home, '.cache', 'huggingface', 'hub'));
    expect(resolveModelDir('textattack/bert-base-uncased-SST-2', {}, home)).toBe(
      join(
        home,
        '.cache',
        'huggingface',
        'hub',
        'models--textattack--bert-base-uncased-SST-2',
        'snapshots',
        MAIN,
      ),
    );
    expect(
      resolveModelDir('textattack/bert-base-uncased-SST-2', { HF_HOME: join(home, '.cache', 'huggingface') }),
    ).toBe(
      join(
        home,
        '.cache',
        'huggingface',
        'hub',
        'models--textattack--bert-base-uncased-SST-2',
        'snapshots',
        MAIN,
      ),
    );
  });

  it('an existing path wins over the cache; a non-repo-id argument is returned as it is', async () => {
    const cache = await fakeCache();
    const cwd = await tempDir();
    await mkdir(join(cwd, 'textattack', 'bert-base-uncased-SST-2'), { recursive: true });
    const local = join(cwd, 'textattack', 'bert-base-uncased-SST-2');
    expect(resolveModelDir(local, { HF_HUB_CACHE: cache })).toBe(local);
    expect(resolveModelDir('no-such-folder', { HF_HUB_CACHE: cache })).toBe('no-such-folder');
  });

  it('not in the cache: the error says where it looked and how to fetch it', async () => {
    const cache = await fakeCache();
    const env = { HF_HUB_CACHE: cache };
    const missing = errorOf(() => resolveModelDir('JeremiahZ/bert-base-uncased-mnli', env));
    expect(missing.message).toContain(join(cache, 'models--JeremiahZ--bert-base-uncased-mnli'));
    expect(missing.message).toContain('`huggingface-cli download JeremiahZ/bert-base-uncased-mnli`');
    const noRef = errorOf(() => resolveModelDir('textattack/bert-base-uncased-SST-2@v2', env));
    expect(noRef.message).toContain(join(cache, 'models--textattack--bert-base-uncased-SST-2', 'refs', 'v2'));
    expect(noRef.message).toContain('--revision v2');
  });
});
