/**
 * Fuzz property: a merge given a byte-mutated mask Fisher file (fisher-nodes) or full Fisher file
 * (fisher) either completes or fails with an FmnError naming that Fisher file, never another error.
 * It goes through the public `merge` API, whatever reads the files inside.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { applyByteMutations, byteMutations, expectCleanOutcome, runProperty } from '@fmn/fuzz';
import { fakeAdapterFor, writeFakeFullFisher, writeFakeMaskFisher, writeFakeModel } from '../test/fake.js';
import { merge } from './merge.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fuzz: Fisher files given to merge', () => {
  it('byte mutations of a mask or full Fisher file: a merge or an FmnError naming the file', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await writeFakeModel(a, { seed: 1 });
    await writeFakeModel(b, { seed: 2 });
    const maskPath = join(root, 'valid-mask.safetensors');
    await writeFakeMaskFisher(
      maskPath,
      [
        [1, 2],
        [3, 4],
      ],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    const fullPath = join(root, 'valid-full.safetensors');
    await writeFakeFullFisher(fullPath, (_, n) => new Float32Array(n).fill(0.5));
    const valid = {
      mask: new Uint8Array(await readFile(maskPath)),
      full: new Uint8Array(await readFile(fullPath)),
    };
    let k = 0;
    await runProperty(
      'Fisher files in merge',
      fc.tuple(fc.constantFrom('mask', 'full'), byteMutations()),
      async ([kind, muts]) => {
        const n = k++;
        const bad = join(root, `f${n}.safetensors`);
        await writeFile(bad, applyByteMutations(valid[kind], muts));
        await expectCleanOutcome(
          () =>
            merge({
              method: kind === 'mask' ? 'fisher-nodes' : 'fisher',
              models: [
                { dir: a, fisher: bad },
                { dir: b, fisher: kind === 'mask' ? maskPath : fullPath },
              ],
              out: join(root, `out${n}`),
              adapterFor: fakeAdapterFor,
            }),
          bad,
        );
      },
      60,
    );
  });
});
