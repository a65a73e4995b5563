import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseRepoId, resolveModelDir } from '@fmn/core';

/**
 * A model argument as a folder (a commander parser): an existing path, or `org/name[@revision]`
 * resolved offline from the HuggingFace hub cache; anything else unchanged.
 */
export function modelDir(arg: string): string {
  return resolveModelDir(arg);
}

/**
 * A model path from a run configuration: relative paths are relative to the file's folder (`here`);
 * a repo id that is no path there comes from the hub cache.
 */
export function configModelDir(here: string, arg: string): string {
  const local = resolve(here, arg);
  if (existsSync(local) || !parseRepoId(arg)) return local;
  return resolveModelDir(arg);
}
