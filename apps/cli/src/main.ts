import { Command, CommanderError } from 'commander';
import { isFmnError } from '@fmn/core';
import { registerFisher } from './commands/fisher.js';
import { registerInspect } from './commands/inspect.js';
import { registerMerge } from './commands/merge.js';
import { registerEval } from './commands/eval.js';
import { registerExportOnnx } from './commands/export-onnx.js';
import { registerRun } from './commands/run.js';
import { registerDemo } from './commands/demo.js';
import { VERSION } from './version.js';
import './register.js';

export function buildProgram(): Command {
  const program = new Command('fmn')
    .description(
      'Merge fine-tuned BERT-family classifiers with Fisher mask nodes (Thennal D K et al., LREC-COLING 2024): ' +
        'compute mask and full Fisher, merge, evaluate, export, and run the whole protocol.',
    )
    .version(VERSION, '-V, --version')
    .option('--quiet', 'no progress bars or status lines on stderr')
    .option('--debug', 'print stack traces for errors')
    .exitOverride()
    .configureOutput({
      // usage errors are printed by the error handler below as one `fmn: ...` line
      outputError: () => undefined,
    });
  registerFisher(program);
  registerMerge(program);
  registerEval(program);
  registerExportOnnx(program);
  registerRun(program);
  registerInspect(program);
  registerDemo(program);
  for (const c of program.commands) {
    c.exitOverride();
    c.configureOutput({ outputError: () => undefined });
    for (const sub of c.commands) {
      sub.exitOverride();
      sub.configureOutput({ outputError: () => undefined });
    }
  }
  return program;
}

/** Runs the CLI; returns the exit code: 0 success, 1 user error, 2 internal error. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help' ||
        e.exitCode === 0
      ) {
        return 0;
      }
      process.stderr.write(`fmn: ${e.message.replace(/^error: /, '')}\n`);
      return 1;
    }
    if (isFmnError(e)) {
      process.stderr.write(`fmn: ${oneLine(e.message)}\n`);
      if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return 1;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`fmn: internal error: ${oneLine(err.message)}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('fmn: this is a bug; rerun with --debug for the stack trace and report it\n');
    return 2;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
