import type { Command } from 'commander';

export interface GlobalOptions {
  quiet: boolean;
  debug: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { quiet?: boolean; debug?: boolean };
  return { quiet: o.quiet === true, debug: o.debug === true };
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}
