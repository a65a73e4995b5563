// Helpers shared by core's tests (outside src, so never built or published).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { isFmnError } from '../src/errors.js';

const dirs: string[] = [];

/** A fresh temp folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fmn-core-test-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** The 8-byte little-endian unsigned length prefix of the safetensors format, byte by byte. */
export function u64le(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * Writes a safetensors file by hand from the format spec: u64 LE header length, the JSON header
 * text (UTF-8), then the data section. `headerLength` overrides the length prefix.
 */
export async function handFile(
  path: string,
  headerText: string,
  data: Uint8Array | number[] = [],
  headerLength?: bigint,
): Promise<string> {
  const header = new TextEncoder().encode(headerText);
  const bytes = new Uint8Array(8 + header.length + data.length);
  bytes.set(u64le(headerLength ?? BigInt(header.length)), 0);
  bytes.set(header, 8);
  bytes.set(data, 8 + header.length);
  await writeFile(path, bytes);
  return path;
}

/** Expects `p` to reject with an FmnError whose message names `file` and matches `re`. */
export async function expectFmnError(p: Promise<unknown>, re: RegExp, file: string): Promise<Error> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeDefined();
  expect(isFmnError(err), `not an FmnError: ${String(err)}`).toBe(true);
  const msg = (err as Error).message;
  expect(msg).toContain(file);
  expect(msg).toMatch(re);
  return err as Error;
}
