import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../test/helpers.js';
import { convertToSafetensors } from './convert.js';
import { SafetensorsFile } from './safetensors.js';
import { toFloat32 } from './tensor.js';

const TINY = fileURLToPath(new URL('./torch/fixtures/tiny-bert/', import.meta.url));

interface Expected {
  dtype: string;
  shape: number[];
  values: number[];
}

describe('convertToSafetensors', () => {
  it('writes model.safetensors with the names, shapes, dtypes and values torch saved, and copies config and tokenizer files', async () => {
    const out = join(await tempDir(), 'converted');
    const r = await convertToSafetensors(TINY, out);
    expect((await readdir(out)).sort()).toEqual(
      ['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt'].sort(),
    );
    expect(r.copied).toEqual(['config.json', 'tokenizer_config.json', 'vocab.txt']);
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe(
      await readFile(join(TINY, 'config.json'), 'utf8'),
    );
    const expected = JSON.parse(await readFile(join(TINY, 'expected.json'), 'utf8')) as Record<
      string,
      Expected
    >;
    const st = await SafetensorsFile.open(join(out, 'model.safetensors'));
    try {
      expect(st.names().sort()).toEqual(Object.keys(expected).sort());
      expect(r.tensors).toBe(Object.keys(expected).length);
      for (const [name, e] of Object.entries(expected)) {
        const t = await st.read(name);
        expect(t.dtype, name).toBe(e.dtype);
        expect(t.shape, name).toEqual(e.shape);
        if (e.dtype === 'I64') {
          const v = new BigInt64Array(t.bytes.slice().buffer);
          expect([...v].map(Number), name).toEqual(e.values);
        } else {
          expect([...toFloat32(t)], name).toEqual(e.values.map((x) => Math.fround(x)));
        }
      }
      expect(st.metadata.format).toBe('pt');
    } finally {
      await st.close();
    }
  });

  it('refuses an existing output folder without force, and converting a folder onto itself', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'x'), '');
    await expectFmnError(convertToSafetensors(TINY, dir), /output folder already exists/, dir);
    await expectFmnError(convertToSafetensors(TINY, TINY), /the model folder itself/, TINY);
  });

  it('leaves nothing behind when the input is refused', async () => {
    const parent = await tempDir();
    const src = join(parent, 'bad');
    await convertToSafetensors(TINY, src); // a valid folder, then spoil its weights
    await writeFile(join(src, 'model.safetensors'), 'garbage');
    await expect(convertToSafetensors(src, join(parent, 'out'))).rejects.toThrow(/safetensors/);
    expect((await readdir(parent)).sort()).toEqual(['bad']);
  });
});
