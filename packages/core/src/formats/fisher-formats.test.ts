import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../../test/helpers.js';
import { writeSafetensors } from '../safetensors.js';
import { fromFloat32 } from '../tensor.js';
import { combineFullFishers, FULL_FISHER_FORMAT, FullFisherFile, writeFullFisher } from './full-fisher.js';
import { combineMaskFishers, MASK_FISHER_FORMAT, readMaskFisher, writeMaskFisher } from './mask-fisher.js';

const LAYOUT = { layers: 2, heads: 2, headSize: 4, intermediate: 3 };

describe('mask Fisher format', () => {
  it('round trip: F32 head [L, H], neuron [L, I], format name and counts in the metadata', async () => {
    const path = join(await tempDir(), 'm.safetensors');
    await writeMaskFisher(path, {
      layout: LAYOUT,
      head: Float32Array.of(1, 2, 3, 4),
      neuron: new Float32Array(6).fill(0.5),
      examples: 9,
    });
    const back = await readMaskFisher(path);
    expect(back.metadata.format).toBe(MASK_FISHER_FORMAT);
    expect(back.layout).toEqual(LAYOUT);
    expect([...back.head]).toEqual([1, 2, 3, 4]);
    expect(back.examples).toBe(9);
  });

  it('an I32 (or F16) mask Fisher is an error naming the file, not a silent conversion', async () => {
    const dir = await tempDir();
    for (const dtype of ['I32', 'F16'] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      const bytes =
        dtype === 'I32'
          ? new Uint8Array(Int32Array.of(1, 2, 3, 4).buffer)
          : fromFloat32(Float32Array.of(1, 2, 3, 4), 'F16');
      await writeSafetensors(
        path,
        [
          { name: 'head', dtype, shape: [2, 2], data: bytes },
          { name: 'neuron', dtype: 'F32', shape: [2, 3], data: fromFloat32(new Float32Array(6), 'F32') },
        ],
        { format: MASK_FISHER_FORMAT },
      );
      await expectFmnError(
        readMaskFisher(path),
        new RegExp(`mask Fisher tensor "head" is ${dtype}; .* F32`),
        path,
      );
    }
  });

  it('a file of another format (a full Fisher) is refused by name', async () => {
    const path = join(await tempDir(), 'full.safetensors');
    await writeSafetensors(
      path,
      [
        { name: 'head', dtype: 'F32', shape: [2, 2], data: fromFloat32(new Float32Array(4), 'F32') },
        { name: 'neuron', dtype: 'F32', shape: [2, 3], data: fromFloat32(new Float32Array(6), 'F32') },
      ],
      { format: FULL_FISHER_FORMAT },
    );
    await expectFmnError(
      readMaskFisher(path),
      /not a mask Fisher file: its metadata "format" is "fmn-full-fisher"/,
      path,
    );
  });

  it('combine: the elementwise sum of the shards; a shard of another layout is named', () => {
    const a = {
      layout: LAYOUT,
      head: Float32Array.of(1, 2, 3, 4),
      neuron: Float32Array.of(1, 1, 1, 0, 0, 0),
      examples: 2,
    };
    const b = {
      layout: LAYOUT,
      head: Float32Array.of(0.5, 0, 0, 1),
      neuron: Float32Array.of(0, 1, 2, 3, 4, 5),
      examples: 3,
    };
    const sum = combineMaskFishers([
      { path: 'a', fisher: a },
      { path: 'b', fisher: b },
    ]);
    expect([...sum.head]).toEqual([1.5, 2, 3, 5]);
    expect([...sum.neuron]).toEqual([1, 2, 3, 3, 4, 5]);
    expect(sum.examples).toBe(5);
    expect(() =>
      combineMaskFishers([
        { path: 'a', fisher: a },
        { path: 'c', fisher: { ...b, layout: { ...LAYOUT, heads: 3 }, head: new Float32Array(6) } },
      ]),
    ).toThrow(/layout 2x3\/3 differs from a/);
  });
});

describe('full Fisher format', () => {
  const tensors = (scale: number) => [
    { name: 'w', shape: [2, 2], values: Float32Array.of(1, 2, 3, 4).map((v) => v * scale) },
    { name: 'b', shape: [2], values: Float32Array.of(0, 0.25).map((v) => v * scale) },
  ];

  it('write, open, read; combine sums the shards tensor by tensor', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.st');
    const b = join(dir, 'b.st');
    const md = await writeFullFisher(a, tensors(1), { examples: '2' });
    expect(md).toEqual({ format: FULL_FISHER_FORMAT, examples: '2' });
    await writeFullFisher(b, tensors(2), { examples: '3' });
    const out = join(dir, 'sum.st');
    await combineFullFishers([a, b], out, { format: FULL_FISHER_FORMAT, examples: '5' });
    const f = await FullFisherFile.open(out);
    try {
      expect([...(await f.read('w'))]).toEqual([3, 6, 9, 12]);
      expect([...(await f.read('b'))]).toEqual([0, 0.75]);
      expect(f.metadata.examples).toBe('5');
    } finally {
      await f.close();
    }
  });

  it('combine refuses shards with other tensors or shapes, naming the shard', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.st');
    const b = join(dir, 'b.st');
    await writeFullFisher(a, tensors(1), {});
    await writeFullFisher(b, [{ name: 'w', shape: [4], values: new Float32Array(4) }, tensors(1)[1]], {});
    await expectFmnError(
      combineFullFishers([a, b], join(dir, 'o.st'), {}),
      /tensor "w" has a different shape/,
      b,
    );
  });

  it('an F16 tensor, a NaN and a negative value are errors naming tensor and file', async () => {
    const dir = await tempDir();
    const f16 = join(dir, 'f16.st');
    await writeSafetensors(
      f16,
      [{ name: 'w', dtype: 'F16', shape: [2], data: fromFloat32(Float32Array.of(1, 2), 'F16') }],
      {
        format: FULL_FISHER_FORMAT,
      },
    );
    await expectFmnError(FullFisherFile.open(f16), /full Fisher tensor "w" is F16/, f16);
    for (const [bad, re] of [
      [NaN, /"w" has NaN at index 1/],
      [-1, /"w" has a negative value \(-1\) at index 1/],
    ] as const) {
      const path = join(dir, `bad${String(bad)}.st`);
      await writeFullFisher(path, [{ name: 'w', shape: [2], values: Float32Array.of(1, bad) }], {});
      const f = await FullFisherFile.open(path);
      try {
        await expectFmnError(f.read('w'), re, path);
      } finally {
        await f.close();
      }
    }
  });
});
