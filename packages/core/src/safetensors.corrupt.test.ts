import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, handFile, tempDir, u64le } from '../test/helpers.js';
import { MAX_HEADER_BYTES, MAX_TENSORS, parseSafetensorsHeader, SafetensorsFile } from './safetensors.js';

describe('corrupt files: each class has its own error naming the file', () => {
  const T = (dtype: string, shape: number[], offs: number[]) =>
    `{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offs)}}`;

  it('missing file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'absent.safetensors');
    await expectFmnError(SafetensorsFile.open(path), /file not found/, path);
  });

  it('a folder instead of a file', async () => {
    const dir = await tempDir();
    await expectFmnError(SafetensorsFile.open(dir), /not a file/, dir);
  });

  it('file too small for the length prefix', async () => {
    const dir = await tempDir();
    const path = join(dir, 'tiny.safetensors');
    await writeFile(path, new Uint8Array([1, 2, 3, 4, 5]));
    await expectFmnError(SafetensorsFile.open(path), /file has 5 bytes, too small for a header/, path);
  });

  it('header length beyond the end of the file', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'short.safetensors'), '{}', [], 100n);
    await expectFmnError(
      SafetensorsFile.open(path),
      /header length 100 goes beyond the end of the file \(10 bytes\)/,
      path,
    );
  });

  it('header length above 100 MB (only the 8-byte prefix exists; nothing is allocated)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'huge.safetensors');
    await writeFile(path, u64le(BigInt(MAX_HEADER_BYTES) + 1n));
    await expectFmnError(
      SafetensorsFile.open(path),
      /header length 100000001 is above the 100000000-byte limit/,
      path,
    );
    await writeFile(path, u64le(2n ** 64n - 1n)); // the largest u64, which a Number cannot hold
    await expectFmnError(SafetensorsFile.open(path), /header length 18446744073709551615 is above/, path);
  });

  it('header not valid UTF-8', async () => {
    const dir = await tempDir();
    const path = join(dir, 'utf.safetensors');
    await writeFile(path, new Uint8Array([...u64le(2n), 0xff, 0xfe]));
    await expectFmnError(SafetensorsFile.open(path), /header is not valid UTF-8/, path);
  });

  it('invalid JSON', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'json.safetensors'), '{"a": {"dtype": "F32",');
    await expectFmnError(SafetensorsFile.open(path), /header is not valid JSON/, path);
  });

  it.each(['[1, 2]', '"text"', 'null', '42'])('header not an object: %s', async (text) => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'arr.safetensors'), text);
    await expectFmnError(SafetensorsFile.open(path), /header is not a JSON object/, path);
  });

  it('unknown dtype', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'dt.safetensors'), `{"a":${T('F8_E4M3', [2], [0, 2])}}`, [0, 0]);
    await expectFmnError(
      SafetensorsFile.open(path),
      /unknown dtype "F8_E4M3" for tensor "a" \(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL\)/,
      path,
    );
  });

  it('invalid shape', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'sh.safetensors'), `{"a":${T('U8', [-1], [0, 0])}}`);
    await expectFmnError(SafetensorsFile.open(path), /invalid shape \[-1\] for tensor "a"/, path);
  });

  it('invalid data_offsets', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'off.safetensors'), `{"a":${T('U8', [1], [0])}}`, [0]);
    await expectFmnError(SafetensorsFile.open(path), /invalid data_offsets \[0\] for tensor "a"/, path);
  });

  it('data_offsets out of order (begin > end)', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'order.safetensors'),
      `{"a":${T('F32', [2], [8, 0])}}`,
      new Uint8Array(8),
    );
    await expectFmnError(SafetensorsFile.open(path), /data_offsets of "a" are out of order \(8 > 0\)/, path);
  });

  it('overlapping tensors', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'overlap.safetensors'),
      `{"a":${T('F32', [2], [0, 8])},"b":${T('F32', [2], [4, 12])}}`,
      new Uint8Array(12),
    );
    await expectFmnError(SafetensorsFile.open(path), /tensors "a" and "b" overlap/, path);
  });

  it('a tensor inside another one also overlaps; empty tensors never do', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'inside.safetensors'),
      `{"big":${T('U8', [10], [0, 10])},"e":${T('U8', [0], [5, 5])},"x":${T('U8', [2], [10, 12])},"in":${T('U8', [2], [3, 5])}}`,
      new Uint8Array(12),
    );
    await expectFmnError(SafetensorsFile.open(path), /tensors "big" and "in" overlap/, path);
  });

  it('tensor outside the data section', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'out.safetensors'),
      `{"a":${T('F32', [2], [0, 8])}}`,
      new Uint8Array(4),
    );
    await expectFmnError(
      SafetensorsFile.open(path),
      /tensor "a" lies outside the data section \(ends at 8, data section has 4 bytes\)/,
      path,
    );
  });

  it('byte length different from dtype size x shape product', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'len.safetensors'),
      `{"a":${T('F32', [3], [0, 8])}}`,
      new Uint8Array(8),
    );
    await expectFmnError(SafetensorsFile.open(path), /tensor "a" has 8 bytes but F32 x \[3\] needs 12/, path);
  });

  it('duplicate tensor names', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'dup.safetensors'),
      `{"a":${T('U8', [1], [0, 1])},"b":${T('U8', [1], [1, 2])},"a":${T('U8', [1], [2, 3])}}`,
      [1, 2, 3],
    );
    await expectFmnError(SafetensorsFile.open(path), /duplicate tensor name "a"/, path);
    // the same name spelled with a JSON escape is still the same name
    await handFile(path, `{"a":${T('U8', [1], [0, 1])},"\\u0061":${T('U8', [1], [1, 2])}}`, [1, 2]);
    await expectFmnError(SafetensorsFile.open(path), /duplicate tensor name "a"/, path);
  });

  it('duplicate keys inside a header entry', async () => {
    const dir = await tempDir();
    const path = await handFile(
      join(dir, 'dupkey.safetensors'),
      `{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`,
      [1],
    );
    await expectFmnError(SafetensorsFile.open(path), /duplicate key "dtype" in the header entry "a"/, path);
  });

  it('metadata values must be strings', async () => {
    const dir = await tempDir();
    const path = await handFile(join(dir, 'meta.safetensors'), '{"__metadata__":{"n":3}}');
    await expectFmnError(SafetensorsFile.open(path), /metadata "n" is not a string/, path);
  });

  it('more tensors than the limit (checked before any entry is validated)', () => {
    expect(MAX_TENSORS).toBe(1_000_000);
    const entries = Array.from({ length: 4 }, (_, i) => `"t${i}":${T('F32', [0], [0, 0])}`);
    const bytes = new TextEncoder().encode(`{"__metadata__":{},${entries.join(',')}}`);
    expect(() => parseSafetensorsHeader(bytes, 0, '/m.safetensors', 3)).toThrow(
      '/m.safetensors: corrupt safetensors: the header lists 4 tensors, above the limit of 3',
    );
    expect(parseSafetensorsHeader(bytes, 0, '/m.safetensors', 4).tensors).toHaveLength(4);
  });
});
