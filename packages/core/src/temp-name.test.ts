import { describe, expect, it } from 'vitest';
import { fmnTempPath, outputOfTempPath, parseFmnTempName } from './temp-name.js';

describe('fmn temp names', () => {
  it('are .<name>.fmn-<tmp|old>-<pid>-<8 hex> beside the output', () => {
    const tmp = fmnTempPath('/a/b/merged', 'tmp', '0123abcd');
    expect(tmp).toBe(`/a/b/.merged.fmn-tmp-${process.pid}-0123abcd`);
    expect(fmnTempPath('/a/b/f.safetensors', 'old', 'ffffffff')).toBe(
      `/a/b/.f.safetensors.fmn-old-${process.pid}-ffffffff`,
    );
    expect(fmnTempPath('/a/out', 'tmp')).toMatch(
      new RegExp(`^/a/\\.out\\.fmn-tmp-${process.pid}-[0-9a-f]{8}$`),
    );
  });

  it('parse back into the output name, kind, pid and tag', () => {
    expect(parseFmnTempName('.merged.fmn-old-4242-00ff00ff')).toEqual({
      target: 'merged',
      kind: 'old',
      pid: 4242,
      tag: '00ff00ff',
    });
    // a name that itself contains dots and the pattern's words
    expect(parseFmnTempName('.a.fmn-tmp-1-2.fmn-tmp-77-abcdef01')?.target).toBe('a.fmn-tmp-1-2');
  });

  it('other names are not fmn temps', () => {
    for (const name of [
      'merged',
      '.merged',
      '.merged.tmp-12-abcdef01', // the pre-0.2 pattern
      '.merged.fmn-tmp-12-abcdef0', // 7 hex digits
      '.merged.fmn-new-12-abcdef01',
      'merged.fmn-tmp-12-abcdef01', // no leading dot
      '.merged.fmn-tmp-x-abcdef01',
    ]) {
      expect(parseFmnTempName(name), name).toBeUndefined();
    }
  });

  it('outputOfTempPath names the output a temp stands for', () => {
    expect(outputOfTempPath('/x/.f.jsonl.fmn-tmp-9-12345678')).toBe('/x/f.jsonl');
    expect(outputOfTempPath('/x/f.jsonl')).toBe('/x/f.jsonl');
  });
});
