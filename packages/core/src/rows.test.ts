/**
 * Row ranges: the helpers (hand-computed cases), reading rows of a tensor from a safetensors file
 * and from a model folder (safetensors and PyTorch: each block equals the same rows of the whole
 * tensor), and writing a tensor as pieces.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../test/helpers.js';
import { Checkpoint } from './checkpoint.js';
import { FullFisherFile, writeFullFisher } from './formats/full-fisher.js';
import { rowChunks, rowCount, rowSize, rowsShape } from './rows.js';
import { SafetensorsFile, writeSafetensors } from './safetensors.js';

const TORCH_FIXTURES = fileURLToPath(new URL('./torch/fixtures/', import.meta.url));
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const values = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('row ranges', () => {
  it('rows of a matrix, a vector and a scalar; blocks of at most n elements', () => {
    expect([rowCount([5, 3, 2]), rowSize([5, 3, 2])]).toEqual([5, 6]);
    expect([rowCount([4]), rowSize([4])]).toEqual([4, 1]);
    expect([rowCount([]), rowSize([])]).toEqual([1, 1]);
    expect(rowsShape([5, 3], { start: 1, end: 3 })).toEqual([2, 3]);
    expect(rowsShape([], { start: 0, end: 1 })).toEqual([]);
    // 5 rows of 6: 13 elements -> 2 rows per block, the last block shorter
    expect(rowChunks([5, 6], 13)).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 5 },
    ]);
    // a row larger than the bound is a block alone
    expect(rowChunks([2, 6], 4)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
    ]);
    expect(rowChunks([3], 100)).toEqual([{ start: 0, end: 3 }]);
    expect(rowChunks([], 1)).toEqual([{ start: 0, end: 1 }]);
    expect(rowChunks([0, 4], 8)).toEqual([{ start: 0, end: 0 }]);
  });

  it('a safetensors file reads rows [start, end) of a tensor, and only their bytes', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.safetensors');
    await writeSafetensors(path, [
      { name: 'v', dtype: 'F32', shape: [3], data: f32(7, 8, 9) },
      { name: 'm', dtype: 'F32', shape: [4, 3], data: new Uint8Array(values(12).buffer) },
    ]);
    const f = await SafetensorsFile.open(path);
    try {
      const before = f.bytesRead;
      const r = await f.readRows('m', { start: 1, end: 3 });
      expect(f.bytesRead - before).toBe(2 * 3 * 4);
      expect(r.shape).toEqual([2, 3]);
      expect([...new Float32Array(r.bytes.buffer)]).toEqual([3, 4, 5, 6, 7, 8]);
      expect([...new Float32Array((await f.readRows('v', { start: 2, end: 3 })).bytes.buffer)]).toEqual([9]);
      expect((await f.readRows('m', { start: 4, end: 4 })).bytes.byteLength).toBe(0);
      await expectFmnError(
        f.readRows('m', { start: 2, end: 5 }),
        /rows \[2, 5\) are outside tensor "m" \(4 rows\)/,
        path,
      );
      await expectFmnError(f.readRows('m', { start: 2, end: 1 }), /outside/, path);
    } finally {
      await f.close();
    }
  });

  it('a checkpoint reads rows from safetensors and PyTorch files: the same rows as the whole tensor', async () => {
    const st = await tempDir();
    await writeFile(join(st, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 4 }));
    await writeSafetensors(join(st, 'model.safetensors'), [
      { name: 'encoder.weight', dtype: 'F32', shape: [5, 2], data: new Uint8Array(values(10, 1).buffer) },
    ]);
    const pt = await tempDir();
    await writeFile(join(pt, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 4 }));
    await copyFile(join(TORCH_FIXTURES, 'zip.bin'), join(pt, 'pytorch_model.bin'));
    const expected = JSON.parse(await readFile(join(TORCH_FIXTURES, 'zip.expected.json'), 'utf8')) as Record<
      string,
      { shape: number[] }
    >;
    for (const dir of [st, pt]) {
      const ck = await Checkpoint.open(dir);
      try {
        const name = 'encoder.weight';
        const whole = await ck.readFloat32(name);
        const per = rowSize(ck.info(name).shape);
        if (dir === pt) expect(ck.info(name).shape).toEqual(expected[name]!.shape);
        for (const rows of rowChunks(ck.info(name).shape, per * 2)) {
          const raw = await ck.readRows(name, rows);
          expect(raw.shape).toEqual(rowsShape(ck.info(name).shape, rows));
          expect([...new Float32Array(raw.bytes.slice().buffer)]).toEqual([
            ...whole.subarray(rows.start * per, rows.end * per),
          ]);
        }
      } finally {
        await ck.close();
      }
    }
  });

  it('a non-finite value in the rows read names its flat index in the whole tensor', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 4 }));
    const v = values(6);
    v[4] = NaN;
    await writeSafetensors(join(dir, 'model.safetensors'), [
      { name: 'w', dtype: 'F32', shape: [3, 2], data: new Uint8Array(v.buffer) },
    ]);
    const ck = await Checkpoint.open(dir);
    try {
      expect([...new Float32Array((await ck.readRows('w', { start: 0, end: 2 })).bytes.buffer)]).toEqual([
        0, 1, 2, 3,
      ]);
      await expectFmnError(
        ck.readRows('w', { start: 2, end: 3 }),
        /"w" holds a non-finite value .* at flat index 4/,
        join(dir, 'model.safetensors'),
      );
    } finally {
      await ck.close();
    }
  });

  it('the writer takes a tensor as pieces, and refuses pieces of the wrong total size', async () => {
    const dir = await tempDir();
    const whole = join(dir, 'whole.safetensors');
    const pieces = join(dir, 'pieces.safetensors');
    await writeSafetensors(whole, [{ name: 'm', dtype: 'F32', shape: [3, 2], data: f32(1, 2, 3, 4, 5, 6) }]);
    await writeSafetensors(pieces, [
      {
        name: 'm',
        dtype: 'F32',
        shape: [3, 2],
        data: async function* () {
          yield f32(1, 2, 3);
          yield f32();
          yield f32(4, 5, 6);
        },
      },
    ]);
    expect((await readFile(pieces)).equals(await readFile(whole))).toBe(true);
    const gen = (...parts: number[][]) =>
      async function* () {
        for (const p of parts) yield f32(...p);
      };
    await expectFmnError(
      writeSafetensors(join(dir, 'short.safetensors'), [
        { name: 'm', dtype: 'F32', shape: [3, 2], data: gen([1, 2], [3]) },
      ]),
      /"m" has 12 bytes, but F32 x \[3, 2\] needs 24/,
      join(dir, 'short.safetensors'),
    );
    await expectFmnError(
      writeSafetensors(join(dir, 'long.safetensors'), [
        { name: 'm', dtype: 'F32', shape: [3, 2], data: gen([1, 2, 3, 4], [5, 6, 7]) },
      ]),
      /"m" has more than 24 bytes/,
      join(dir, 'long.safetensors'),
    );
  });

  it('a full Fisher file reads rows; a bad value is named by its index in the whole tensor', async () => {
    const path = join(await tempDir(), 'full.safetensors');
    await writeFullFisher(
      path,
      [{ name: 'w', shape: [3, 2], values: Float32Array.from([0, 1, 2, 3, -1, 5]) }],
      {},
    );
    const f = await FullFisherFile.open(path);
    try {
      expect([...(await f.read('w', { start: 0, end: 2 }))]).toEqual([0, 1, 2, 3]);
      await expectFmnError(
        f.read('w', { start: 2, end: 3 }),
        /"w" has a negative value \(-1\) at index 4/,
        path,
      );
    } finally {
      await f.close();
    }
  });
});
