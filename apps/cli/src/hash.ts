import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FmnError } from '@fmn/core';

async function hashFileInto(h: ReturnType<typeof createHash>, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(path);
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => resolve());
    s.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new FmnError(e.code === 'ENOENT' ? 'file not found' : `cannot read (${e.code ?? e.message})`, path),
      ),
    );
  });
}

/** sha256 of a file's bytes, hex. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await hashFileInto(h, path);
  return h.digest('hex');
}

/**
 * sha256 of a model's content: config.json, every weight file (*.safetensors, pytorch_model*.bin, the index) and the
 * tokenizer files, in name order, each preceded by its name. Anything else in the folder (README,
 * merge reports) does not change what the model computes and is left out.
 */
export async function modelHash(dir: string): Promise<string> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch {
    throw new FmnError('model folder not found', dir);
  }
  const files = entries.filter(
    (e) =>
      e === 'config.json' ||
      e.endsWith('.safetensors') ||
      e === 'model.safetensors.index.json' ||
      /^pytorch_model.*\.bin$/.test(e) ||
      e === 'pytorch_model.bin.index.json' ||
      e === 'tokenizer.json' ||
      e === 'vocab.txt' ||
      e === 'vocab.json' ||
      e === 'merges.txt' ||
      e === 'tokenizer_config.json',
  );
  const h = createHash('sha256');
  for (const f of files) {
    const p = join(dir, f);
    if (!(await stat(p)).isFile()) continue;
    h.update(`${f}\0`);
    await hashFileInto(h, p);
    h.update('\0');
  }
  return h.digest('hex');
}

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
