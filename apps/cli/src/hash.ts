import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FmnError, modelContentHash, sha256OfFile } from '@fmn/core';

/** sha256 of a file's bytes, hex (core's). */
export const sha256File = sha256OfFile;

/**
 * sha256 of a model's content (config.json, weight and tokenizer files): core's modelContentHash,
 * which a Fisher file records as model_sha256.
 */
export const modelHash = modelContentHash;

/** sha256 of a JSON-serializable value with sorted keys. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
    .join(',')}}`;
}

/** sha256 of a data file, or for a task folder a hash over its files' names and hashes. */
export async function dataHash(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new FmnError('data file not found', path);
  }
  if (!st.isDirectory()) return sha256File(path);
  const parts: [string, string][] = [];
  for (const n of (await readdir(path)).sort()) {
    const p = join(path, n);
    if ((await stat(p)).isFile()) parts.push([n, await sha256File(p)]);
  }
  return hashJson(parts);
}
