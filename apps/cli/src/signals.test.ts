import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerLiveTemp } from '@fmn/core';
import { describe, expect, it } from 'vitest';
import { cleanUpAfter, SIGNAL_EXIT_CODES } from './signals.js';

describe('the signal handler', () => {
  it('exit codes are 128 + the signal number, as a shell reports them', () => {
    expect(SIGNAL_EXIT_CODES).toEqual({ SIGINT: 128 + 2, SIGTERM: 128 + 15, SIGHUP: 128 + 1 });
  });

  it('removes the live temps and says so in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmn-signals-'));
    try {
      const tmp = join(dir, '.out.fmn-tmp-1-00000000');
      await writeFile(tmp, 'partial');
      registerLiveTemp(tmp);
      let text = '';
      expect(cleanUpAfter('SIGTERM', (s) => (text += s))).toBe(143);
      expect(text).toBe('fmn: interrupted by SIGTERM; unfinished outputs removed\n');
      expect(await readdir(dir)).toEqual([]);
      text = '';
      expect(cleanUpAfter('SIGINT', (s) => (text += s))).toBe(130);
      expect(text).toBe('fmn: interrupted by SIGINT\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
