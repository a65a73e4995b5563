import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FmnError } from './errors.js';

/**
 * The HuggingFace hub cache, read offline: `org/name[@revision]` names the snapshot folder that
 * `huggingface-cli download org/name` left there. fmn never downloads.
 */

/** `org/name` with an optional `@revision` (a branch, tag or commit hash). */
const REPO_ID =
  /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9][A-Za-z0-9._/-]*))?$/;

export interface RepoRef {
  readonly repo: string;
  readonly revision: string;
}

/** Parses `org/name[@revision]`; undefined when `arg` does not look like a repo id. */
export function parseRepoId(arg: string): RepoRef | undefined {
  const m = REPO_ID.exec(arg);
  if (!m || m[1]!.endsWith('.') || arg.includes('..')) return undefined;
  return { repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main' };
}

type Env = Readonly<Record<string, string | undefined>>;

/** The hub cache folder as huggingface_hub chooses it: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: Env = process.env, home: string = homedir()): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE; // the older name of the same setting
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'huggingface', 'hub');
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The snapshot folder of `ref` in the cache at `cache`, or an FmnError saying where fmn looked. */
export function resolveHubSnapshot(ref: RepoRef, cache: string): string {
  const repoDir = join(cache, `models--${ref.repo.replace('/', '--')}`);
  const looked: string[] = [];
  const id = `${ref.repo}${ref.revision === 'main' ? '' : `@${ref.revision}`}`;
  if (isDir(repoDir)) {
    const refFile = join(repoDir, 'refs', ref.revision);
    looked.push(refFile);
    let hash: string | undefined;
    try {
      hash = readFileSync(refFile, 'utf8').trim();
    } catch {
      if (/^[0-9a-f]{40}$/.test(ref.revision)) hash = ref.revision; // a commit hash is its own snapshot
    }
    if (hash !== undefined) {
      if (!/^[0-9a-f]{40}$/.test(hash))
        throw new FmnError(`the hub cache ref of "${id}" holds no commit hash`, refFile);
      const snapshot = join(repoDir, 'snapshots', hash);
      if (isDir(snapshot)) return snapshot;
      looked.push(snapshot);
    }
  } else {
    looked.push(repoDir);
  }
  throw new FmnError(
    `"${id}" is not a folder here and is not in the HuggingFace hub cache (looked for ${looked.join(', ')}; ` +
      `cache ${cache}, set by $HF_HUB_CACHE or $HF_HOME); fmn never downloads: \`huggingface-cli download ${ref.repo}${
        ref.revision === 'main' ? '' : ` --revision ${ref.revision}`
      }\` fetches it`,
  );
}

/**
 * A model argument as a folder: an existing path as it is; otherwise `org/name[@revision]` from the
 * hub cache; anything else unchanged (so the caller reports "model folder not found").
 */
export function resolveModelDir(arg: string, env: Env = process.env, home: string = homedir()): string {
  if (existsSync(arg)) return arg;
  const ref = parseRepoId(arg);
  if (!ref) return arg;
  return resolveHubSnapshot(ref, hubCacheDir(env, home));
}

/**
 * The name a model folder goes by: its folder name, or for a hub-cache snapshot
 * (`models--org--name/snapshots/<hash>`) the repo's name, not the commit hash.
 */
export function modelFolderName(dir: string): string {
  const parts = resolve(dir)
    .split(/[\\/]/)
    .filter((p) => p !== '');
  const n = parts.length;
  if (n >= 3 && parts[n - 2] === 'snapshots' && /^models--.+--.+$/.test(parts[n - 3]!)) {
    return parts[n - 3]!.split('--').pop()!;
  }
  return parts[n - 1] ?? '';
}
