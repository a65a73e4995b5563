import { Command, CommanderError } from 'commander';
import { isFmnError, outputOfTempPath } from '@fmn/core';
import { registerFisher } from './commands/fisher.js';
import { registerGram } from './commands/gram.js';
import { registerInspect } from './commands/inspect.js';
import { registerMerge } from './commands/merge.js';
import { registerEval } from './commands/eval.js';
import { registerPredict } from './commands/predict.js';
import { registerExportOnnx } from './commands/export-onnx.js';
import { registerRun } from './commands/run.js';
import { registerDemo } from './commands/demo.js';
import { registerConvert } from './commands/convert.js';
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
  registerGram(program);
  registerMerge(program);
  registerEval(program);
  registerPredict(program);
  registerExportOnnx(program);
  registerRun(program);
  registerInspect(program);
  registerDemo(program);
  registerConvert(program);
  // Options are positional: each command parses the options after its own name, so that
  // `fmn fisher combine A B --out F` gives --out to combine, not to fisher. The global options
  // are therefore repeated on every command (and read back with optsWithGlobals).
  program.enablePositionalOptions();
  const all = program.commands.flatMap((c) => [c, ...c.commands]);
  for (const c of all) {
    c.option('--quiet', 'no progress bars or status lines on stderr');
    c.option('--debug', 'print stack traces for errors');
    c.exitOverride();
    c.configureOutput({ outputError: () => undefined });
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
    return reportError(e, debug, (s) => process.stderr.write(s));
  }
}

/** File-system errors that mean a bad path or a full disk, not a bug in fmn. */
const USER_FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, a file was expected',
  ENOTDIR: 'a file is in the way of a folder in this path',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/**
 * Prints an error the way fmn reports them and returns the exit code: usage errors, FmnErrors
 * and file-system errors on a user's path are one line and exit 1 (the stack only with --debug);
 * anything else is an internal error, exit 2.
 */
export function reportError(e: unknown, debug: boolean, write: (s: string) => void): number {
  if (e instanceof CommanderError) {
    if (
      e.code === 'commander.helpDisplayed' ||
      e.code === 'commander.version' ||
      e.code === 'commander.help' ||
      e.exitCode === 0
    ) {
      return 0;
    }
    write(`fmn: ${oneLine(e.message.replace(/^error: /, ''))}\n`);
    return 1;
  }
  if (isFmnError(e)) {
    write(`fmn: ${oneLine(e.message)}\n`);
    if (debug && e.stack) write(`${e.stack}\n`);
    return 1;
  }
  const sys = e as NodeJS.ErrnoException;
  if (
    e instanceof Error &&
    typeof sys.code === 'string' &&
    sys.code in USER_FS_ERRORS &&
    typeof sys.syscall === 'string'
  ) {
    // name the user's path, not the temporary file an atomic write goes through
    const dest = (sys as { dest?: string }).dest;
    const raw = dest ?? sys.path;
    const path = raw === undefined ? undefined : outputOfTempPath(raw);
    const what =
      sys.code === 'EEXIST' && sys.syscall === 'mkdir' ? USER_FS_ERRORS.ENOTDIR : USER_FS_ERRORS[sys.code];
    write(`fmn: ${path ? `${path}: ` : ''}${what} (${sys.code}, ${sys.syscall})\n`);
    if (debug && e.stack) write(`${e.stack}\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  write(`fmn: internal error: ${oneLine(err.message)}\n`);
  if (debug && err.stack) write(`${err.stack}\n`);
  else write('fmn: this is a bug; rerun with --debug for the stack trace and report it\n');
  return 2;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
