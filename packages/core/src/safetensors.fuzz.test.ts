/**
 * Fuzz property (fast-check, fixed seed here; `pnpm fuzz` runs it long with a random seed): any
 * mutation of a valid safetensors file (bytes, or the header's JSON) opens and reads to a valid
 * result, or fails with an FmnError naming the file, never another error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import {
  applyByteMutations,
  applyJsonMutations,
  byteMutations,
  expectCleanOutcome,
  jsonMutations,
  runProperty,
  toJsonText,
} from '@fmn/fuzz';
import { tempDir } from '../test/helpers.js';
import { SafetensorsFile, writeSafetensors } from './safetensors.js';
import { fromFloat32, toFloat32 } from './tensor.js';

async function validFile(dir: string): Promise<Uint8Array> {
  const path = join(dir, 'valid.safetensors');
  const v = Float32Array.from([0.5, -1, 2, 3, 4, 5]);
  await writeSafetensors(
    path,
    [
      { name: 'a.weight', dtype: 'F32', shape: [2, 3], data: fromFloat32(v, 'F32') },
      { name: 'b.bias', dtype: 'F16', shape: [3], data: fromFloat32(v.subarray(0, 3), 'F16') },
      { name: 'c', dtype: 'BF16', shape: [], data: fromFloat32(v.subarray(0, 1), 'BF16') },
      { name: 'ids', dtype: 'I64', shape: [2], data: new Uint8Array(16) },
    ],
    { format: 'pt', note: 'fuzz' },
  );
  return new Uint8Array(await readFile(path));
}

/** Opens `path` and reads every tensor (as float32 too), then closes it. */
async function readAll(path: string): Promise<void> {
  const f = await SafetensorsFile.open(path);
  try {
    for (const name of f.names()) toFloat32(await f.read(name));
  } finally {
    await f.close();
  }
}

describe('fuzz: safetensors', () => {
  it('byte mutations: a valid result or an FmnError naming the file', async () => {
    const dir = await tempDir();
    const valid = await validFile(dir);
    let k = 0;
    await runProperty(
      'safetensors bytes',
      byteMutations(),
      async (muts) => {
        const path = join(dir, `m${k++}.safetensors`);
        await writeFile(path, applyByteMutations(valid, muts));
        await expectCleanOutcome(() => readAll(path), path);
      },
      150,
    );
  });

  it('header JSON mutations: a valid result or an FmnError naming the file', async () => {
    const dir = await tempDir();
    const valid = await validFile(dir);
    const n = Number(Buffer.from(valid).readBigUInt64LE(0));
    const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + n))) as unknown;
    const data = valid.subarray(8 + n);
    let k = 0;
    await runProperty(
      'safetensors header',
      fc.tuple(jsonMutations(), fc.boolean()),
      async ([muts, rightLength]) => {
        const text = Buffer.from(toJsonText(applyJsonMutations(header, muts)));
        const prefix = Buffer.alloc(8);
        // mostly the true length; sometimes the old one, so the data section shifts
        prefix.writeBigUInt64LE(BigInt(rightLength ? text.length : n));
        const path = join(dir, `h${k++}.safetensors`);
        await writeFile(path, Buffer.concat([prefix, text, data]));
        await expectCleanOutcome(() => readAll(path), path);
      },
      150,
    );
  });
});
