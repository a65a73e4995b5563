import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFmnError } from '../errors.js';
import { toFloat32, type RawTensor } from '../tensor.js';
import { TorchFile } from './torch-file.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface Expected {
  dtype: string;
  shape: number[];
  values: (number | boolean)[];
}

function expectedOf(stem: string): Record<string, Expected> {
  return JSON.parse(readFileSync(join(FIXTURES, `${stem}.expected.json`), 'utf8')) as Record<
    string,
    Expected
  >;
}

/** The tensor's values as numbers (integers through BigInt so int64 values above 2^53 stay exact). */
function valuesOf(t: RawTensor): (number | bigint)[] {
  const b = t.bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (t.dtype) {
    case 'I64':
      return Array.from({ length: b.length / 8 }, (_, i) => v.getBigInt64(i * 8, true));
    case 'I32':
      return Array.from({ length: b.length / 4 }, (_, i) => v.getInt32(i * 4, true));
    case 'U8':
    case 'BOOL':
      return Array.from(b);
    case 'F64':
      return Array.from({ length: b.length / 8 }, (_, i) => v.getFloat64(i * 8, true));
    default:
      return Array.from(toFloat32(t));
  }
}

function normalize(values: (number | boolean)[], dtype: string): (number | bigint)[] {
  if (dtype === 'BOOL') return values.map((x) => (x ? 1 : 0));
  if (dtype === 'I64') return values.map((x) => BigInt(x as number));
  if (dtype === 'F32') return values.map((x) => Math.fround(x as number));
  return values as number[];
}

async function expectMatches(file: string, stem: string): Promise<void> {
  const expected = expectedOf(stem);
  const t = await TorchFile.open(join(FIXTURES, file));
  try {
    expect(t.names()).toEqual(Object.keys(expected));
    for (const [name, e] of Object.entries(expected)) {
      const r = await t.read(name);
      expect(r.dtype, name).toBe(e.dtype);
      expect(r.shape, name).toEqual(e.shape);
      expect(valuesOf(r), name).toEqual(normalize(e.values, e.dtype));
    }
  } finally {
    await t.close();
  }
}

async function openError(path: string): Promise<Error> {
  try {
    const t = await TorchFile.open(path);
    await t.close();
  } catch (e) {
    expect(isFmnError(e)).toBe(true);
    return e as Error;
  }
  throw new Error(`expected ${path} to be refused`);
}

// I64 values in the fixture's JSON above 2^53 would lose precision through JSON.parse; the fixture
// keeps them within range except 2^50, which is exact.
describe('TorchFile reads torch.save state dicts', () => {
  it.each([
    ['zip.bin', 'zip', 'zip'],
    ['legacy.bin', 'legacy', 'legacy'],
    ['dtypes.bin', 'dtypes', 'zip'],
    ['dtypes-legacy.bin', 'dtypes-legacy', 'legacy'],
    ['views.bin', 'views', 'zip'],
    ['views-legacy.bin', 'views-legacy', 'legacy'],
  ])('%s matches the values torch wrote', async (file, stem, format) => {
    await expectMatches(file, stem);
    const t = await TorchFile.open(join(FIXTURES, file));
    expect(t.format).toBe(format);
    await t.close();
  });

  it('reads each tensor with one positional read of only the bytes its view spans', async () => {
    const t = await TorchFile.open(join(FIXTURES, 'views.bin'));
    const before = t.bytesRead;
    await t.read('row2'); // 6 floats at offset 12 of a 24-float storage
    expect(t.bytesRead - before).toBe(6 * 4);
    const mid = t.bytesRead;
    await t.read('columns'); // [4, 2] at stride (6, 2), offset 1: elements 1 .. 21
    expect(t.bytesRead - mid).toBe(21 * 4);
    await t.close();
  });

  it('shared storages: tied tensors and views of one storage read the same bytes', async () => {
    const t = await TorchFile.open(join(FIXTURES, 'views.bin'));
    expect(t.info('tied.a').begin).toBe(t.info('tied.b').begin);
    expect(t.info('transposed').begin).toBe(t.info('base').begin);
    expect(await t.readFloat32('tied.a')).toEqual(await t.readFloat32('tied.b'));
    await t.close();
  });
});

describe('TorchFile refuses unsafe pickles and executes nothing', () => {
  const { marker } = JSON.parse(readFileSync(join(FIXTURES, 'malicious.json'), 'utf8')) as { marker: string };
  beforeAll(async () => rm(marker, { force: true }));
  afterAll(async () => rm(marker, { force: true }));

  it.each([
    ['malicious-system.bin', 'posix.system'],
    ['malicious-eval.bin', '__builtin__.eval'],
    ['malicious-legacy.bin', 'posix.system'],
  ])(
    "%s: an FmnError naming the file and the global %s; the payload's file is not created",
    async (file, global) => {
      const path = join(FIXTURES, file);
      const e = await openError(path);
      expect(e.message).toContain(path);
      expect(e.message).toContain(`"${global}"`);
      expect(e.message).toContain('nothing was executed');
      expect(existsSync(marker)).toBe(false);
    },
  );
});

describe('TorchFile refuses malformed checkpoints with a clear error', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fmn-torch-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('a compressed zip entry', async () => {
    const e = await openError(join(FIXTURES, 'compressed.bin'));
    expect(e.message).toMatch(/"compressed\/data\.pkl" is compressed/);
  });

  it('a file that is not a checkpoint', async () => {
    const p = join(dir, 'text.bin');
    await writeFile(p, 'hello world');
    expect((await openError(p)).message).toMatch(/not a PyTorch checkpoint/);
  });

  it('a legacy file cut inside its storages: sizes checked against the file before any allocation', async () => {
    const p = join(dir, 'cut.bin');
    const bytes = await readFile(join(FIXTURES, 'legacy.bin'));
    await writeFile(p, bytes.subarray(0, bytes.length - 10));
    expect((await openError(p)).message).toMatch(/storage "\d+" says \d+ elements.*bytes left/);
  });

  it('a legacy file cut inside its pickles', async () => {
    const p = join(dir, 'cut-pickle.bin');
    const bytes = await readFile(join(FIXTURES, 'legacy.bin'));
    await writeFile(p, bytes.subarray(0, 300));
    expect((await openError(p)).message).toMatch(/ends inside its pickles/);
  });

  it('a zip whose storage entry is shorter than the pickle says', async () => {
    // rewrite data.pkl's first storage size (BININT1 24 in the "views" pickle) to a larger one
    const bytes = Buffer.from(await readFile(join(FIXTURES, 'views.bin')));
    const needle = Buffer.from('X\x03\x00\x00\x00cpuq\x07K\x18', 'latin1');
    const at = bytes.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes[at + needle.length - 1] = 0x7f; // 127 elements, the entry has 24 * 4 bytes
    const p = join(dir, 'short.bin');
    await writeFile(p, bytes);
    expect((await openError(p)).message).toMatch(/storage "0" needs 508 bytes .* but its entry has 96/);
  });

  it('a view reaching past its storage', async () => {
    // "row2" is offset 12 of the shared 24-element storage: move it to offset 20 (needs 26)
    const bytes = Buffer.from(await readFile(join(FIXTURES, 'views.bin')));
    const needle = Buffer.from('QK\x0cK\x06\x85', 'latin1');
    const at = bytes.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes[at + 2] = 20;
    const p = join(dir, 'past.bin');
    await writeFile(p, bytes);
    expect((await openError(p)).message).toMatch(
      /tensor "row2" views elements up to 26 of storage "0", which has 24/,
    );
  });

  it('a zip without data.pkl', async () => {
    const p = join(dir, 'nopkl.bin');
    await copyFile(join(FIXTURES, 'zip.bin'), p);
    const bytes = Buffer.from(await readFile(p));
    // rename every "zip/data.pkl" to "zip/data.pkX" (local and central headers)
    let at = bytes.indexOf('zip/data.pkl');
    while (at >= 0) {
      bytes[at + 11] = 0x58;
      at = bytes.indexOf('zip/data.pkl', at + 1);
    }
    await writeFile(p, bytes);
    expect((await openError(p)).message).toMatch(/no <archive>\/data\.pkl/);
  });
});
