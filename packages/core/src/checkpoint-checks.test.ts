import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../test/helpers.js';
import { registerAdapter, type ArchitectureAdapter } from './adapter.js';
import { Checkpoint } from './checkpoint.js';
import { FmnError } from './errors.js';
import { writeSafetensors } from './safetensors.js';
import { fromFloat32, type DType } from './tensor.js';

async function folder(modelType: string, dtype: DType, values: number[]): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: modelType }));
  await writeSafetensors(join(dir, 'model.safetensors'), [
    { name: 'ok', dtype, shape: [2], data: fromFloat32(Float32Array.from([1, 2]), dtype) },
    {
      name: 'layer.3.weight',
      dtype,
      shape: [values.length],
      data: fromFloat32(Float32Array.from(values), dtype),
    },
  ]);
  return dir;
}

describe('Checkpoint: non-finite weights', () => {
  for (const dtype of ['F32', 'F16', 'BF16', 'F64'] as const) {
    it(`${dtype}: reading a tensor holding NaN or an infinity names the file and the tensor`, async () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const dir = await folder('none', dtype, [0.5, bad]);
        const ck = await Checkpoint.open(dir);
        try {
          expect((await ck.readFloat32('ok'))[1]).toBe(2);
          await expectFmnError(
            ck.read('layer.3.weight'),
            /tensor "layer\.3\.weight" holds a non-finite value \(NaN or infinity\) at flat index 1/,
            join(dir, 'model.safetensors'),
          );
        } finally {
          await ck.close();
        }
      }
    });
  }
});

describe('Checkpoint: the adapter checks the header at open', () => {
  const seen: string[] = [];
  const adapter: ArchitectureAdapter = {
    modelType: 'header-check-probe',
    detect: () => false,
    maskLayout: () => ({ layers: 0, heads: 0, headSize: 0, intermediate: 0 }),
    load: () => Promise.reject(new Error('not used')),
    toTensors: () => [],
    role: () => ({ taskHead: true }),
    isTaskHead: () => true,
    checkHeader(ck) {
      seen.push(...ck.names());
      if (ck.info('ok').shape[0] !== 3) throw new FmnError('"ok" has 2 rows, config says 3', ck.dir);
    },
  };
  registerAdapter(adapter);

  it('an inconsistency is an error at open, before any tensor is read', async () => {
    const dir = await folder('header-check-probe', 'F32', [1]);
    await expectFmnError(Checkpoint.open(dir), /"ok" has 2 rows, config says 3/, dir);
    expect(seen.sort()).toEqual(['layer.3.weight', 'ok']);
  });

  it('a folder of an unregistered architecture is opened unchecked', async () => {
    const dir = await folder('not-registered', 'F32', [1]);
    const ck = await Checkpoint.open(dir);
    expect(ck.names()).toHaveLength(2);
    await ck.close();
  });
});
