/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP end fmn promptly and cleanly: the temps it is writing
 * (core's registry of live temps: unfinished outputs, scratch folders) are removed synchronously,
 * a folder that `--force` was replacing gets its previous contents back, one line goes to stderr,
 * and the exit code is 128 + the signal's number (130, 143, 129), as a shell reports a process
 * killed by it. SIGKILL cannot be caught: its temps are recovered by the next run (core's
 * recover-output.ts).
 */
import { writeSync } from 'node:fs';
import { removeLiveTempsSync } from '@fmn/core';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

/** What the handler does on `signal`; returns the exit code (exported for tests). */
export function cleanUpAfter(signal: HandledSignal, write: (s: string) => void): number {
  const removed = removeLiveTempsSync();
  write(`fmn: interrupted by ${signal}${removed.length > 0 ? '; unfinished outputs removed' : ''}\n`);
  return SIGNAL_EXIT_CODES[signal];
}

function writeStderr(s: string): void {
  try {
    // a progress bar hides the cursor; show it again
    if (process.stderr.isTTY) writeSync(2, '\x1b[?25h\r\x1b[K');
    writeSync(2, s);
  } catch {
    // stderr is gone: nothing to tell
  }
}

/** Installs the handlers (once, in bin.ts). */
export function exitCleanlyOnSignals(): void {
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as HandledSignal[]) {
    process.on(signal, () => process.exit(cleanUpAfter(signal, writeStderr)));
  }
}
