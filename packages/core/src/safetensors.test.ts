import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, handFile, tempDir } from '../test/helpers.js';
import {
  findDuplicateKey,
  parseSafetensorsHeader,
  SafetensorsFile,
  writeSafetensors,
} from './safetensors.js';
import type { DType } from './tensor.js';

/** Little-endian bytes of values, written with DataView (independent of tensor.ts). */
function le(dtype: DType, values: (number | bigint)[]): Uint8Array {
  const size = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[dtype];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const o = i * size;
    switch (dtype) {
      case 'F64':
        dv.setFloat64(o, Number(v), true);
        break;
      case 'F32':
        dv.setFloat32(o, Number(v), true);
        break;
      case 'F16':
      case 'BF16':
        dv.setUint16(o, Number(v), true);
        break; // raw bit patterns
      case 'I64':
        dv.setBigInt64(o, BigInt(v), true);
        break;
      case 'I32':
        dv.setInt32(o, Number(v), true);
        break;
      case 'I16':
        dv.setInt16(o, Number(v), true);
        break;
      case 'I8':
        dv.setInt8(o, Number(v));
        break;
      case 'U8':
      case 'BOOL':
        dv.setUint8(o, Number(v));
        break;
    }
  });
  return out;
}

// Per dtype: stored values (F16/BF16 as bit patterns) and the float32 values they read as.
const DTYPE_CASES: { dtype: DType; stored: (number | bigint)[]; asFloat: number[] }[] = [
  {
    dtype: 'F64',
    stored: [1.5, -2, 1e-300, 0.1, 1e300, -0],
    asFloat: [1.5, -2, 0, Math.fround(0.1), Infinity, -0],
  },
  {
    dtype: 'F32',
    stored: [1.5, -2, 2 ** -149, 3.4028234663852886e38, -Infinity, 0.25],
    asFloat: [1.5, -2, 2 ** -149, 3.4028234663852886e38, -Infinity, 0.25],
  },
  // 1, -2, smallest subnormal, 65504, +inf, -0
  {
    dtype: 'F16',
    stored: [0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x8000],
    asFloat: [1, -2, 2 ** -24, 65504, Infinity, -0],
  },
  // 1, -2, 3.140625, smallest subnormal, -inf, largest finite
  {
    dtype: 'BF16',
    stored: [0x3f80, 0xc000, 0x4049, 0x0001, 0xff80, 0x7f7f],
    asFloat: [1, -2, 3.140625, 2 ** -133, -Infinity, (2 - 2 ** -7) * 2 ** 127],
  },
  {
    dtype: 'I64',
    stored: [1n, -2n, 2n ** 40n, -(2n ** 40n), 0n, 7n],
    asFloat: [1, -2, 2 ** 40, -(2 ** 40), 0, 7],
  },
  {
    dtype: 'I32',
    stored: [1, -2, 2 ** 31 - 1, -(2 ** 31), 0, 7],
    asFloat: [1, -2, 2 ** 31, -(2 ** 31), 0, 7],
  },
  { dtype: 'I16', stored: [1, -2, 32767, -32768, 0, 7], asFloat: [1, -2, 32767, -32768, 0, 7] },
  { dtype: 'I8', stored: [1, -2, 127, -128, 0, 7], asFloat: [1, -2, 127, -128, 0, 7] },
  { dtype: 'U8', stored: [1, 2, 255, 128, 0, 7], asFloat: [1, 2, 255, 128, 0, 7] },
  { dtype: 'BOOL', stored: [1, 0, 1, 1, 0, 0], asFloat: [1, 0, 1, 1, 0, 0] },
];

describe('writeSafetensors -> SafetensorsFile round trip', () => {
  it.each(DTYPE_CASES)('$dtype: bytes, shape and float32 values', async ({ dtype, stored, asFloat }) => {
    const dir = await tempDir();
    const path = join(dir, 'x.safetensors');
    const bytes = le(dtype, stored);
    await writeSafetensors(path, [{ name: 't', dtype, shape: [2, 3], data: bytes }], { kind: dtype });
    const f = await SafetensorsFile.open(path);
    try {
      expect(f.info('t')).toMatchObject({ dtype, shape: [2, 3], begin: 0, end: bytes.length });
      expect(f.metadata).toEqual({ kind: dtype });
      const raw = await f.read('t');
      expect(raw.dtype).toBe(dtype);
      expect([...raw.bytes]).toEqual([...bytes]);
      const vals = [...(await f.readFloat32('t'))];
      vals.forEach((v, i) => expect(Object.is(v, asFloat[i]), `${i}: ${v} vs ${asFloat[i]}`).toBe(true));
    } finally {
      await f.close();
    }
  });

  it('all dtypes in one file, with scalars and empty tensors, in order, with metadata', async () => {
    const dir = await tempDir();
    const path = join(dir, 'all.safetensors');
    const tensors = DTYPE_CASES.map(({ dtype, stored }) => ({
      name: `t_${dtype}`,
      dtype,
      shape: [3, 2],
      data: le(dtype, stored),
    }));
    tensors.push({ name: 'scalar', dtype: 'F32', shape: [], data: le('F32', [42]) });
    tensors.push({ name: 'empty', dtype: 'F16', shape: [0, 4], data: new Uint8Array(0) });
    await writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode ✓' });

    // the file layout itself, read by hand: u64 LE length, 8-aligned JSON header, data
    const file = await readFile(path);
    const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8')) as Record<
      string,
      { data_offsets: number[] }
    >;
    expect(header.__metadata__).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    const expectedData = tensors.reduce((s, t) => s + t.data.length, 0);
    expect(file.length).toBe(8 + n + expectedData);

    const f = await SafetensorsFile.open(path);
    try {
      expect(f.names().sort()).toEqual(tensors.map((t) => t.name).sort());
      for (const t of tensors) {
        expect(f.info(t.name).shape).toEqual(t.shape);
        expect([...(await f.read(t.name)).bytes]).toEqual([...t.data]);
      }
      expect([...(await f.readFloat32('scalar'))]).toEqual([42]);
      expect((await f.readFloat32('empty')).length).toBe(0);
      expect(f.metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    } finally {
      await f.close();
    }
  });

  it('a file without metadata has empty metadata and no __metadata__ key', async () => {
    const dir = await tempDir();
    const path = join(dir, 'x.safetensors');
    await writeSafetensors(path, [{ name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array([5]) }]);
    const file = await readFile(path);
    expect(file.toString('utf8')).not.toContain('__metadata__');
    const f = await SafetensorsFile.open(path);
    expect(f.metadata).toEqual({});
    await f.close();
  });
});

describe('a file written by hand from the format spec', () => {
  it('reads values, shapes, dtypes and __metadata__', async () => {
    const dir = await tempDir();
    // tensors deliberately not in offset order in the header; header padded with spaces
    const header =
      '{"__metadata__":{"format":"pt","who":"hand"},' +
      '"b.weight":{"dtype":"I16","shape":[3],"data_offsets":[8,14]},' +
      '"a.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},' +
      '"c":{"dtype":"BF16","shape":[2],"data_offsets":[14,18]}}   ';
    const data = [
      0x00,
      0x00,
      0x80,
      0x3f,
      0x00,
      0x00,
      0x00,
      0xc0, // F32 1, -2
      0x01,
      0x00,
      0xff,
      0xff,
      0x00,
      0x80, // I16 1, -1, -32768
      0x80,
      0x3f,
      0x49,
      0x40, // BF16 1, 3.140625
    ];
    const path = await handFile(join(dir, 'hand.safetensors'), header, data);
    const f = await SafetensorsFile.open(path);
    try {
      expect(f.names().sort()).toEqual(['a.weight', 'b.weight', 'c']);
      expect(f.metadata).toEqual({ format: 'pt', who: 'hand' });
      expect(f.info('a.weight')).toMatchObject({ dtype: 'F32', shape: [1, 2], begin: 0, end: 8 });
      expect(f.info('b.weight')).toMatchObject({ dtype: 'I16', shape: [3], begin: 8, end: 14 });
      expect([...(await f.readFloat32('a.weight'))]).toEqual([1, -2]);
      expect([...(await f.readFloat32('b.weight'))]).toEqual([1, -1, -32768]);
      expect([...(await f.readFloat32('c'))]).toEqual([1, 3.140625]);
      expect(f.has('nope')).toBe(false);
      expect(() => f.info('nope')).toThrow(/no tensor named "nope"/);
    } finally {
      await f.close();
    }
  });

  it('accepts "__metadata__": null as no metadata', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'm.safetensors'),
      '{"__metadata__":null,"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
      [7],
    );
    const f = await SafetensorsFile.open(path);
    expect(f.metadata).toEqual({});
    expect([...(await f.readFloat32('a'))]).toEqual([7]);
    await f.close();
  });
});

describe('findDuplicateKey', () => {
  it('finds no false duplicates: same keys in sibling objects, keys inside strings, escapes, arrays', () => {
    const text = JSON.stringify({
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      'q"uo,te{': { dtype: '{"a":1}', shape: [[{ a: 1 }, { a: 2 }]], data_offsets: [] },
      'back\\slash': 'x',
      __metadata__: { a: 'b', dtype: '"a":' },
    });
    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it('reports the first duplicate and where it is', () => {
    expect(findDuplicateKey('{"x":1,"y":{"k":1,"k":2},"x":3}')).toEqual({ key: 'k', under: 'y' });
    expect(findDuplicateKey('{"x":[{"k":1},{"k":2}],"x":3}')).toEqual({ key: 'x' });
    expect(findDuplicateKey('{"a\\"b":1,"a\\u0022b":2}')).toEqual({ key: 'a"b' });
    expect(findDuplicateKey(' { "s" : "\\\\" , "s" : 1 } ')).toEqual({ key: 's' });
  });
});

describe('laziness', () => {
  it('reading one tensor reads only its bytes', async () => {
    const dir = await tempDir();
    const path = join(dir, 'big.safetensors');
    const mb = 1 << 20;
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [mb / 4], data: new Uint8Array(mb) },
      { name: 'b', dtype: 'U8', shape: [100], data: new Uint8Array(100).fill(3) },
      { name: 'c', dtype: 'F32', shape: [mb / 4], data: new Uint8Array(mb) },
    ]);
    const file = await readFile(path);
    const headerLen = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
    const f = await SafetensorsFile.open(path);
    try {
      expect(f.bytesRead).toBe(8 + headerLen);
      const b = await f.read('b');
      expect([...b.bytes]).toEqual(new Array(100).fill(3));
      expect(f.bytesRead).toBe(8 + headerLen + 100);
    } finally {
      await f.close();
    }
  });
});

describe('writeSafetensors failures leave nothing behind', () => {
  it('a lazy tensor whose data() throws midway: no file, no temp file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.safetensors');
    let calls = 0;
    await expect(
      writeSafetensors(path, [
        { name: 'a', dtype: 'U8', shape: [4], data: () => (calls++, new Uint8Array(4)) },
        { name: 'b', dtype: 'U8', shape: [4], data: () => Promise.reject(new Error('boom')) },
        { name: 'c', dtype: 'U8', shape: [4], data: () => (calls++, new Uint8Array(4)) },
      ]),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a lazy tensor with the wrong byte length: FmnError, no file, no temp file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.safetensors');
    await expectFmnError(
      writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [2], data: () => new Uint8Array(4) }]),
      /tensor "a" has 4 bytes, but F32 x \[2\] needs 8/,
      path,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failed write keeps the previous file intact', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.safetensors');
    await writeFile(path, 'previous');
    await expect(
      writeSafetensors(path, [
        {
          name: 'a',
          dtype: 'U8',
          shape: [1],
          data: () => {
            throw new Error('nope');
          },
        },
      ]),
    ).rejects.toThrow('nope');
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['out.safetensors']);
  });

  it('rejects bad input before creating any file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.safetensors');
    const u8 = new Uint8Array(1);
    await expectFmnError(
      writeSafetensors(path, [
        { name: 'a', dtype: 'U8', shape: [1], data: u8 },
        { name: 'a', dtype: 'U8', shape: [1], data: u8 },
      ]),
      /duplicate tensor name "a"/,
      path,
    );
    await expectFmnError(
      writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [1], data: u8 }]),
      /has 1 bytes, but F32 x \[1\] needs 4/,
      path,
    );
    await expectFmnError(
      writeSafetensors(path, [{ name: 'a', dtype: 'U8', shape: [-1], data: u8 }]),
      /invalid shape/,
      path,
    );
    await expectFmnError(
      writeSafetensors(path, [{ name: 'a', dtype: 'X' as DType, shape: [1], data: u8 }]),
      /unknown dtype "X"/,
      path,
    );
    await expectFmnError(
      writeSafetensors(path, [{ name: '__metadata__', dtype: 'U8', shape: [1], data: u8 }]),
      /not a valid tensor name/,
      path,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('"__proto__" is an ordinary tensor name', async () => {
    const dir = await tempDir();
    const path = join(dir, 'p.safetensors');
    await writeSafetensors(path, [{ name: '__proto__', dtype: 'U8', shape: [1], data: new Uint8Array([9]) }]);
    const f = await SafetensorsFile.open(path);
    expect(f.names()).toEqual(['__proto__']);
    expect([...(await f.readFloat32('__proto__'))]).toEqual([9]);
    await f.close();
  });
});

describe('metadata keys that are Object.prototype member names', () => {
  it('are kept as plain string entries', () => {
    const header = Buffer.from('{"__metadata__":{"__proto__":"p","constructor":"c","toString":"t"}}');
    const { metadata } = parseSafetensorsHeader(header, 0, '/x.safetensors');
    expect(Object.keys(metadata)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(metadata['__proto__']).toBe('p');
    expect(metadata.constructor).toBe('c');
  });
});
