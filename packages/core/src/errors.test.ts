import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { atomicFile } from './atomic.js';
import { FmnError, isFmnError, withPath } from './errors.js';

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    syscall: 'write',
  });
}

describe('withPath', () => {
  it('gives a path-less file-system error the path it was about; keeps an existing path', () => {
    expect((withPath(enospc(), '/out/x') as NodeJS.ErrnoException).path).toBe('/out/x');
    const named = Object.assign(enospc(), { path: '/a' });
    expect((withPath(named, '/b') as NodeJS.ErrnoException).path).toBe('/a');
  });

  it('leaves other errors alone', () => {
    const e = new FmnError('bad', 'f');
    expect(withPath(e, '/x')).toBe(e);
    expect(isFmnError(e)).toBe(true);
    expect((withPath(new TypeError('t'), '/x') as NodeJS.ErrnoException).path).toBeUndefined();
  });

  it('a failed write in atomicFile (ENOSPC) names the target file', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out.safetensors');
    const err = await atomicFile(target, () => Promise.reject(enospc())).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(err?.code).toBe('ENOSPC');
    expect(err?.path).toBe(target);
  });
});
