import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFmnError, tempDir } from '../../test/helpers.js';
import { writeSafetensors } from '../safetensors.js';
import { fromFloat32 } from '../tensor.js';
import { combineGrams, GRAM_FORMAT, GramFile, writeGram } from './gram.js';
import { modelRecordMetadata, readModelRecord, recordMismatch, weightsDigest } from './model-record.js';

describe('Gram format', () => {
  it('write, open, read; combine sums', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.st');
    const b = join(dir, 'b.st');
    await writeGram(a, [{ name: 'l.weight', shape: [2, 2], values: Float32Array.of(1, 2, 2, 5) }], {
      examples: '1',
    });
    await writeGram(b, [{ name: 'l.weight', shape: [2, 2], values: Float32Array.of(4, 0, 0, 1) }], {
      examples: '1',
    });
    const out = join(dir, 'sum.st');
    await combineGrams([a, b], out, { examples: '2' });
    const g = await GramFile.open(out);
    try {
      expect(g.metadata.format).toBe(GRAM_FORMAT);
      expect([...(await g.read('l.weight'))]).toEqual([5, 2, 2, 6]);
    } finally {
      await g.close();
    }
  });

  it('a non-square, asymmetric or negative-diagonal Gram matrix is an error', async () => {
    const dir = await tempDir();
    const rect = join(dir, 'rect.st');
    await writeSafetensors(
      rect,
      [{ name: 'l', dtype: 'F32', shape: [2, 3], data: fromFloat32(new Float32Array(6), 'F32') }],
      {
        format: GRAM_FORMAT,
      },
    );
    await expectFmnError(GramFile.open(rect), /Gram tensor "l" is \[2, 3\], not a square matrix/, rect);
    const asym = join(dir, 'asym.st');
    await writeSafetensors(
      asym,
      [{ name: 'l', dtype: 'F32', shape: [2, 2], data: fromFloat32(Float32Array.of(1, 2, 3, 1), 'F32') }],
      {
        format: GRAM_FORMAT,
      },
    );
    const g = await GramFile.open(asym);
    try {
      await expectFmnError(g.read('l'), /not symmetric at \[0, 1\] \(2 vs 3\)/, asym);
    } finally {
      await g.close();
    }
    await expect(
      writeGram(join(dir, 'neg.st'), [{ name: 'l', shape: [1, 1], values: Float32Array.of(-1) }], {}),
    ).rejects.toThrow(/negative diagonal/);
  });
});

describe('model record', () => {
  async function model(dir: string, values: number[]): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    await writeSafetensors(join(dir, 'model.safetensors'), [
      {
        name: 'x',
        dtype: 'F32',
        shape: [values.length],
        data: fromFloat32(Float32Array.from(values), 'F32'),
      },
    ]);
  }

  it('records path, model type and the weights digest; a swapped file is a mismatch, the right one is not', async () => {
    const dir = await tempDir();
    await model(join(dir, 'a'), [1, 2]);
    await model(join(dir, 'b'), [1, 3]);
    const ra = readModelRecord(await modelRecordMetadata(join(dir, 'a')));
    expect(ra.path).toBe(join(dir, 'a'));
    expect(ra.modelType).toBe('bert');
    // the digest by its definition: sha256 of "<file name> <sha256 of the file>\n"
    const fileSha = createHash('sha256')
      .update(await readFile(join(dir, 'a', 'model.safetensors')))
      .digest('hex');
    const digest = createHash('sha256').update(`model.safetensors ${fileSha}\n`).digest('hex');
    expect(ra.weightsSha256).toBe(digest);
    expect(weightsDigest([{ file: join(dir, 'a', 'model.safetensors'), sha256: fileSha }])).toBe(digest);

    const identity = (d: string, sha: string, modelType = 'bert') => ({
      dir: d,
      modelType,
      weights: [{ file: join(d, 'model.safetensors'), sha256: sha }],
    });
    expect(await recordMismatch(ra, identity(join(dir, 'a'), fileSha))).toBeUndefined();
    expect(await recordMismatch(ra, identity(join(dir, 'b'), 'other'))).toMatch(
      /other weights .*weights_sha256 differs/,
    );
    expect(await recordMismatch(ra, identity(join(dir, 'b'), fileSha, 'roberta'))).toMatch(
      /computed on a bert model .* is roberta/,
    );
    // nothing recorded: nothing to compare
    expect(await recordMismatch(readModelRecord({}), identity(join(dir, 'b'), 'x'))).toBeUndefined();
  });
});
