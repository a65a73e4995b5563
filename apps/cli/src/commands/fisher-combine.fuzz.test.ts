/**
 * Fuzz property: `fisher combine` given a byte-mutated shard (mask Fisher, shard 0/2) beside a
 * valid shard 1/2 either writes the combined Fisher or fails with an FmnError naming the mutated
 * shard, never another error.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMaskFisher } from '@fmn/core';
import { applyByteMutations, byteMutations, expectCleanOutcome, runProperty } from '@fmn/fuzz';
import { combineFisher } from './fisher.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-combine-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function shard(path: string, index: number | string): Promise<void> {
  await writeMaskFisher(
    path,
    {
      layout: { layers: 2, heads: 2, headSize: 2, intermediate: 3 },
      head: Float32Array.from([1, 2, 3, 4]),
      neuron: Float32Array.from([1, 2, 3, 4, 5, 6]),
      examples: 4,
    },
    { model_sha256: 'ab', data_sha256: 'cd', seed: '0', convention: 'batch', shard: `${index}/2` },
  );
}

describe('fuzz: fisher combine', () => {
  it('byte mutations of one shard: a combined Fisher or an FmnError naming the shard', async () => {
    const valid0 = join(root, 'valid0.safetensors');
    const valid1 = join(root, 'valid1.safetensors');
    await shard(valid0, 0);
    await shard(valid1, 1);
    await combineFisher([valid0, valid1], join(root, 'combined.safetensors')); // the unmutated pair combines
    const bytes = new Uint8Array(await readFile(valid0));
    let k = 0;
    await runProperty(
      'fisher combine',
      byteMutations(),
      async (muts) => {
        const n = k++;
        const bad = join(root, `s${n}.safetensors`);
        await writeFile(bad, applyByteMutations(bytes, muts));
        await expectCleanOutcome(() => combineFisher([bad, valid1], join(root, `out${n}.safetensors`)), bad);
      },
      150,
    );
  });

  it('invalid "shard" metadata and missing shards name the files (no bare --shard message)', async () => {
    const bad = join(root, 'bad-shard.safetensors');
    await shard(bad, 'x');
    const ok1 = join(root, 'ok1.safetensors');
    await shard(ok1, 1);
    await expect(combineFisher([bad, ok1], join(root, 'o.safetensors'))).rejects.toThrow(
      `${bad}: invalid "shard" metadata "x/2"`,
    );
    await expect(combineFisher([ok1], join(root, 'o.safetensors'))).rejects.toThrow(
      `cannot combine: missing shard 0/2 of 2 (given: ${ok1}: 1/2)`,
    );
  });
});
