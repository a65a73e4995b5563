import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, type RunResult } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');

/**
 * Runs the binary with its stdout a pipe whose reader has already gone (as `| head -3` once head
 * has its lines): every write fails with EPIPE.
 */
function intoClosedPipe(args: string[], readFirst: boolean): Promise<RunResult & { got: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    let stderr = '';
    if (readFirst) {
      child.stdout.once('data', (d: Buffer) => {
        got = d.toString();
        child.stdout.destroy();
      });
    } else {
      child.stdout.destroy();
    }
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout: '', stderr, got }));
  });
}

describe('a reader that closes the pipe early', () => {
  for (const [name, args] of [
    ['inspect', ['inspect', two]],
    [
      'predict',
      ['predict', '--model', two, ...Array.from({ length: 50 }, (_, i) => ['--text', `text ${i}`]).flat()],
    ],
  ] as const) {
    it(`${name}: exits 0 with nothing on stderr`, async () => {
      const r = await intoClosedPipe([...args], false);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('inspect after the reader took its first chunk: exit 0, no stack trace', async () => {
    const r = await intoClosedPipe(['inspect', two], true);
    expect(r.got).toContain('model folder');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
