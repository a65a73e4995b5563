import { describe, expect, it } from 'vitest';
import { fmn, userError } from './helpers.js';

describe('fmn: help and usage errors', () => {
  it('--help lists every command', async () => {
    const r = await fmn(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['fisher', 'gram', 'merge', 'eval', 'predict', 'export-onnx', 'run', 'inspect', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    }
  });

  it('each command documents its options', async () => {
    const expected: Record<string, string[]> = {
      fisher: [
        '--model',
        '--data',
        '--task',
        '--backend',
        '--samples',
        '--batch-size',
        '--seed',
        '--convention',
        '--max-length',
        '--shard',
        '--full',
        '--out',
        '--force',
      ],
      'fisher combine': ['--out', '--force'],
      gram: [
        '--model',
        '--data',
        '--backend',
        '--samples',
        '--batch-size',
        '--seed',
        '--max-length',
        '--out',
        '--force',
      ],
      merge: ['--method', '--model', '--fisher', '--base', '--mapping', '--lambda', '--force', '--out'],
      eval: ['--model', '--data', '--task', '--json'],
      predict: ['--model', '--data', '--text', '--text-pair', '--out', '--force', '--json'],
      'export-onnx': ['--model', '--out'],
      run: ['<config>'],
      inspect: ['<path>'],
      demo: ['--arch'],
    };
    for (const [cmd, opts] of Object.entries(expected)) {
      const r = await fmn([...cmd.split(' '), '--help']);
      expect(r.code, cmd).toBe(0);
      for (const o of opts) expect(r.stdout, `${cmd} ${o}`).toContain(o);
    }
  });

  it('help texts cite the method spec as docs/method.md (the file in the repository)', async () => {
    const texts = await Promise.all(
      ['fisher', 'gram', 'merge', 'eval', 'predict', 'run', 'demo'].map(
        async (c) => (await fmn([c, '--help'])).stdout,
      ),
    );
    const all = texts.join('\n');
    expect(all).not.toContain('METHOD.md');
    expect(all.match(/docs\/method\.md §\d/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('an unknown option is one line, exit 1', async () => {
    const line = userError(await fmn(['inspect', 'x', '--bogus']));
    expect(line).toContain("unknown option '--bogus'");
  });

  it('an unknown command is one line, exit 1', async () => {
    const line = userError(await fmn(['frobnicate']));
    expect(line).toContain('frobnicate');
  });

  it('a bad choice names the allowed values', async () => {
    const line = userError(
      await fmn(['merge', '--method', 'median', '--model', 'a', '--model', 'b', '--out', 'o']),
    );
    expect(line).toContain('median');
    expect(line).toContain('fisher-nodes');
  });

  it('bad numbers and shard specs are one line', async () => {
    expect(
      userError(await fmn(['fisher', '--model', 'm', '--data', 'd', '--out', 'o', '--samples', 'many'])),
    ).toContain('--samples');
    expect(
      userError(await fmn(['fisher', '--model', 'm', '--data', 'd', '--out', 'o', '--batch-size', '0'])),
    ).toContain('--batch-size');
    expect(
      userError(await fmn(['fisher', '--model', 'm', '--data', 'd', '--out', 'o', '--shard', '2/2'])),
    ).toContain('0-based');
    expect(
      userError(await fmn(['fisher', '--model', 'm', '--data', 'd', '--out', 'o', '--shard', 'half'])),
    ).toContain('i/n');
  });

  it('a missing required option is one line', async () => {
    expect(userError(await fmn(['fisher', '--model', 'm', '--data', 'd']))).toContain('--out');
    expect(userError(await fmn(['merge', '--method', 'average', '--model', 'a', '--model', 'b']))).toContain(
      '--out',
    );
  });

  it('--version prints the version', async () => {
    const r = await fmn(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
