// The --backend option lists and accepts whatever is registered with @fmn/core when the program
// is built: a third backend needs no CLI edit.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { BACKEND_CONTRACT_VERSION, backendChoices, registerBackend, type Backend } from '@fmn/core';
import { buildProgram } from './main.js';

const fake: Backend = {
  name: 'fake-f64',
  runtime: 'fake',
  contractVersion: BACKEND_CONTRACT_VERSION,
  capabilities: { conventions: ['batch'], fullFisher: false, training: false },
  load: () => Promise.reject(new Error('not used')),
};

function command(program: Command, ...path: string[]): Command {
  let c = program;
  for (const name of path) c = c.commands.find((x) => x.name() === name)!;
  return c;
}

/** Parses `args` for a command whose action only records the options it was given. */
async function parsedOptions(path: string[], args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  let seen: Record<string, unknown> | undefined;
  command(program, ...path).action((opts: Record<string, unknown>) => {
    seen = opts;
  });
  await program.parseAsync([...path, ...args], { from: 'user' });
  if (!seen) throw new Error('the action did not run');
  return seen;
}

const evalArgs = ['--model', 'm', '--data', 'd.tsv'];

describe('--backend choices come from the registry', () => {
  it('the built-in backends are registered by register.ts (the lazy register entries of their packages)', () => {
    expect(backendChoices()).toEqual(['tfjs', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu', 'onnxruntime']);
    const help = command(buildProgram(), 'eval').helpInformation();
    expect(help).toContain('"tfjs-wasm"');
    expect(help).toContain('"onnxruntime"');
  });

  it('a name nobody registered is a usage error', async () => {
    await expect(parsedOptions(['eval'], [...evalArgs, '--backend', 'fake-f64'])).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
  });

  it('a third backend registered before the program is built is accepted and listed by every command', async () => {
    registerBackend('fake-f64', { init: () => Promise.resolve(fake) }, 1);
    for (const path of [['eval'], ['fisher'], ['demo']]) {
      const help = command(buildProgram(), ...path).helpInformation();
      expect(help, path.join(' ')).toContain('"fake-f64"');
      // its family too, as resolveBackend('fake') would pick it
      expect(help, path.join(' ')).toContain('"fake"');
    }
    expect((await parsedOptions(['eval'], [...evalArgs, '--backend', 'fake-f64'])).backend).toBe('fake-f64');
    expect(
      (await parsedOptions(['fisher'], [...evalArgs, '--out', 'f.safetensors', '--backend', 'fake'])).backend,
    ).toBe('fake');
    expect((await parsedOptions(['demo'], ['--backend', 'fake-f64'])).backend).toBe('fake-f64');
  });

  it('importing a backend package after its lazy registration does not register it twice', async () => {
    const before = backendChoices();
    await import('@fmn/backend-onnxruntime');
    expect(backendChoices()).toEqual(before);
  });
});
