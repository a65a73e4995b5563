/**
 * docs/adding-a-merge-method.md, the CLI side: a method registered before the program is built
 * (the example `median` from @fmn/merge/testing, one file) gets its --method choice, its flag and
 * help, its run-configuration key, and merges with the options the CLI builds - no CLI edit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import { Checkpoint } from '@fmn/core';
import { merge, registerMergeMethod } from '@fmn/merge';
import { median } from '@fmn/merge/testing';
import { writeFamily, type FixtureFamily } from '@fmn/testkit';
import { buildProgram } from './main.js';
import { methodOptionsFromCli } from './merge-methods.js';
import { parseRunConfig } from './runconfig.js';

registerMergeMethod(median);

let root: string;
let family: FixtureFamily;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-cli-median-'));
  family = await writeFamily(join(root, 'bert'), 'bert', { layers: 1, heads: 2, intermediate: 8, seed: 3 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function mergeCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'merge')!;
}

describe('a registered method in the CLI', () => {
  it('--method accepts it, --help lists it and its flag', () => {
    const cmd = mergeCommand(buildProgram());
    const help = cmd.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain('--median-lower median: for an even number of models take the lower');
    expect(cmd.options.find((o) => o.long === '--method')!.argChoices).toContain('median');
  });

  it('the options built from its flags merge as a hand computation says', async () => {
    const program = buildProgram();
    const cmd = mergeCommand(program);
    let seen: { opts: Record<string, unknown>; command: Command } | undefined;
    cmd.action((opts: Record<string, unknown>, command: Command) => {
      seen = { opts, command };
    });
    const dirs = family.tasks.slice(0, 2).map((t) => t.dir);
    const out = join(root, 'out');
    await program.parseAsync(
      [
        'merge',
        '--method',
        'median',
        '--median-lower',
        '--dare-p',
        '0.5',
        '--model',
        dirs[0],
        '--model',
        dirs[1],
        '--out',
        out,
      ],
      { from: 'user' },
    );
    const warnings: string[] = [];
    const options = methodOptionsFromCli('median', seen!.opts, seen!.command, (m) => warnings.push(m));
    expect(options).toEqual({ lower: true });
    expect(warnings).toEqual(['--dare-p applies to dare only; ignored for median']);

    await merge({ method: 'median', models: dirs.map((dir) => ({ dir })), options, out });
    // two models with lower: each merged entry is the smaller of the two inputs
    const read = async (dir: string, name: string) => {
      const c = await Checkpoint.open(dir);
      try {
        return await c.readFloat32(name);
      } finally {
        await c.close();
      }
    };
    const name = 'bert.encoder.layer.0.attention.self.query.weight';
    const [x, y] = await Promise.all(dirs.map((d) => read(d, name)));
    const got = await read(join(out, 'two-labels'), name);
    expect(got.length).toBe(x.length);
    got.forEach((v, i) => expect(v).toBe(Math.min(x[i], y[i])));
  });

  it('an option both Fisher methods declare in one file is one flag: --fisher-normalize', async () => {
    const program = buildProgram();
    const cmd = mergeCommand(program);
    expect(cmd.helpInformation().replace(/\s+/g, ' ')).toContain(
      '--fisher-normalize <none|mean> fisher-nodes, fisher: none: the paper',
    );
    let seen: { opts: Record<string, unknown>; command: Command } | undefined;
    cmd.action((opts: Record<string, unknown>, command: Command) => {
      seen = { opts, command };
    });
    await program.parseAsync(['merge', '--method', 'fisher', '--fisher-normalize', 'mean', '--out', 'x'], {
      from: 'user',
    });
    expect(methodOptionsFromCli('fisher', seen!.opts, seen!.command, () => undefined)).toEqual({
      fisherNormalize: 'mean',
    });
    await expect(
      buildProgram().parseAsync(['merge', '--method', 'fisher', '--fisher-normalize', 'max', '--out', 'x'], {
        from: 'user',
      }),
    ).rejects.toThrow(/Allowed choices are none, mean/);
  });

  it('a run configuration takes its key and label', () => {
    const text = JSON.stringify({
      methods: ['median', { method: 'median', lower: true, name: 'median (lower)' }],
      tasks: family.tasks.slice(0, 2).map((t, i) => ({ name: `task${i}`, model: t.dir, data: root })),
    });
    const plan = parseRunConfig(text, join(root, 'run.json'));
    expect(plan.methods).toEqual([
      { label: 'median', method: 'median', lambda: undefined, options: {} },
      { label: 'median (lower)', method: 'median', lambda: undefined, options: { lower: true } },
    ]);
    expect(() =>
      parseRunConfig(text.replace('"lower":true', '"lower":"yes"'), join(root, 'run.json')),
    ).toThrow(/methods\[1\]: "lower" must be true or false/);
  });
});
