import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { fmn, ok } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
const data = join(fx, 'data', 'two.tsv');

describe('the default backend: the fastest that starts, onnxruntime, else tfjs', () => {
  it('eval without --backend runs on onnxruntime', async () => {
    expect(await ok(['eval', '--model', two, '--data', data])).toMatch(/\(24 examples, onnxruntime\):/);
  });

  it('when onnxruntime cannot start, the tfjs family; --debug says why', async () => {
    // FMN_ORT_THREADS must be a positive integer: onnxruntime refuses to start with 0
    const r = await fmn(['eval', '--model', two, '--data', data, '--debug'], {
      env: { FMN_ORT_THREADS: '0' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(24 examples, tfjs-(node|wasm|cpu)\):/);
    expect(r.stderr).toMatch(/^note: backend onnxruntime unavailable \(.*FMN_ORT_THREADS/m);
  });

  it('every command with --backend documents the same rule, the demo included', async () => {
    for (const c of ['fisher', 'eval', 'predict', 'demo']) {
      const help = (await ok([c, '--help'])).replace(/\s+/g, ' ');
      expect(help, c).toContain('default: the fastest that starts here: onnxruntime, else tfjs');
      expect(help, c).not.toContain('default: "onnxruntime"');
    }
  });
});
