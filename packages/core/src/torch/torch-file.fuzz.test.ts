/**
 * Fuzz property: any byte mutation of a PyTorch checkpoint (zip and legacy formats, from the
 * Debian torch fixtures) opens and reads to a valid result, or fails with an FmnError naming the
 * file; the restricted unpickler never runs anything and never throws another error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { applyByteMutations, byteMutations, expectCleanOutcome, runProperty } from '@fmn/fuzz';
import { tempDir } from '../../test/helpers.js';
import { toFloat32 } from '../tensor.js';
import { TorchFile } from './torch-file.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SOURCES = ['zip.bin', 'legacy.bin', 'views.bin', 'views-legacy.bin', 'dtypes.bin', 'compressed.bin'];

async function readAll(path: string): Promise<void> {
  const f = await TorchFile.open(path);
  try {
    for (const name of f.names()) toFloat32(await f.read(name));
  } finally {
    await f.close();
  }
}

describe('fuzz: torch reader', () => {
  it('byte mutations of zip and legacy checkpoints: a valid result or an FmnError naming the file', async () => {
    const dir = await tempDir();
    const valid = await Promise.all(
      SOURCES.map(async (s) => new Uint8Array(await readFile(join(FIXTURES, s)))),
    );
    let k = 0;
    await runProperty(
      'torch pickle',
      fc.tuple(fc.integer({ min: 0, max: SOURCES.length - 1 }), byteMutations()),
      async ([which, muts]) => {
        const path = join(dir, `m${k++}.bin`);
        await writeFile(path, applyByteMutations(valid[which]!, muts));
        await expectCleanOutcome(() => readAll(path), path);
      },
      200,
    );
  });
});
