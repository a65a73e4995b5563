// Laziness on a multi-GB file: a sparse file (no disk blocks for the holes) whose header describes
// 3 GiB of tensors; reading one small tensor must not touch the rest.
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { SafetensorsFile } from './safetensors.js';

const GiB = 2 ** 30;

describe('laziness on a 3 GiB sparse file', () => {
  it('reads one small tensor with RSS growth well under 200 MB', async () => {
    const dir = await tempDir();
    const path = join(dir, 'sparse.safetensors');
    const big = (i: number) => ({ dtype: 'F32', shape: [GiB / 4], data_offsets: [i * GiB, (i + 1) * GiB] });
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      'big.0': big(0),
      'big.1': big(1),
      small: { dtype: 'F32', shape: [4], data_offsets: [2 * GiB, 2 * GiB + 16] },
      'big.2': { dtype: 'F32', shape: [GiB / 4], data_offsets: [2 * GiB + 16, 3 * GiB + 16] },
    });
    const headerBytes = Buffer.from(header, 'utf8');
    const dataStart = 8 + headerBytes.length;
    const total = dataStart + 3 * GiB + 16;

    const fh = await open(path, 'w');
    try {
      await fh.truncate(total);
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(headerBytes.length));
      await fh.write(prefix, 0, 8, 0);
      await fh.write(headerBytes, 0, headerBytes.length, 8);
      const small = Buffer.alloc(16);
      [1.5, -2, 0.25, 1024].forEach((v, i) => small.writeFloatLE(v, 4 * i));
      await fh.write(small, 0, 16, dataStart + 2 * GiB);
    } finally {
      await fh.close();
    }
    const st = await stat(path);
    expect(st.size).toBe(total);
    expect(st.blocks * 512).toBeLessThan(64 * 2 ** 20); // really sparse: no 3 GiB on disk

    const rss0 = process.memoryUsage().rss;
    const f = await SafetensorsFile.open(path);
    try {
      expect(f.info('big.2').end - f.info('big.2').begin).toBe(GiB);
      const values = [...(await f.readFloat32('small'))];
      const rss1 = process.memoryUsage().rss;
      expect(values).toEqual([1.5, -2, 0.25, 1024]);
      expect(f.bytesRead).toBe(dataStart + 16);
      expect(rss1 - rss0).toBeLessThan(200 * 2 ** 20);
    } finally {
      await f.close();
    }
  });
});
