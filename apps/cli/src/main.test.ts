import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { reportError } from './main.js';

function capture(e: unknown, debug = false): { code: number; text: string } {
  let text = '';
  const code = reportError(e, debug, (s) => (text += s));
  return { code, text };
}

describe('reportError: exit codes and messages', () => {
  it('an FmnError is one line, exit 1; the stack only with --debug', () => {
    const e = new FmnError('label "x" is not a label\nof the model', 'data/train.tsv');
    const plain = capture(e);
    expect(plain.code).toBe(1);
    expect(plain.text.trimEnd().split('\n')).toHaveLength(1);
    expect(plain.text).toContain('data/train.tsv');
    expect(plain.text).toContain('is not a label of the model');
    const debug = capture(e, true);
    expect(debug.code).toBe(1);
    expect(debug.text.split('\n').length).toBeGreaterThan(2);
    expect(debug.text).toMatch(/\n\s+at /);
  });

  it('a usage error from commander is one line, exit 1; help and version exit 0', () => {
    expect(capture(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toEqual({
      code: 1,
      text: "fmn: unknown option '--x'\n",
    });
    expect(capture(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')).code).toBe(0);
  });

  it('a file-system error on a path is a user error naming the path', () => {
    const e = Object.assign(new Error("EISDIR: illegal operation on a directory, open '/tmp/out'"), {
      code: 'EISDIR',
      syscall: 'open',
      path: '/tmp/out',
    });
    const r = capture(e);
    expect(r.code).toBe(1);
    expect(r.text).toBe('fmn: /tmp/out: is a folder, a file was expected (EISDIR, open)\n');
  });

  it('names the output, not the temp file an atomic write goes through', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/data/.f.safetensors.fmn-tmp-4242-0a1b2c3d',
    });
    expect(capture(e).text).toBe('fmn: /data/f.safetensors: no space left on the device (ENOSPC, write)\n');
  });

  it('anything else is an internal error, exit 2, with a hint (or the stack with --debug)', () => {
    const r = capture(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(r.code).toBe(2);
    expect(r.text).toContain('fmn: internal error: Cannot read properties of undefined');
    expect(r.text).toContain('--debug');
    const d = capture(new RangeError('boom'), true);
    expect(d.code).toBe(2);
    expect(d.text).toMatch(/RangeError: boom\n\s+at /);
  });
});
