import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr with ETA, one at a time, erased when it stops (the result lines say
 * what was done); a no-op when stderr is not a terminal or when quiet.
 */
export interface Progress {
  /** advances by `n` units (default 1) */
  increment(n?: number, detail?: string): void;
  /** adds `n` to the total (for work whose size grows as it is discovered) */
  addTotal(n: number): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** also print diagnostic notes (backend fallbacks) */
  debug?: boolean;
}

const NOOP: Progress = { increment() {}, addTotal() {}, stop() {} };

export function progressEnabled(options: ProgressOptions): boolean {
  return !options.quiet && process.stderr.isTTY === true;
}

export function progressBar(options: ProgressOptions, label: string, total: number, unit = ''): Progress {
  if (!progressEnabled(options)) return NOOP;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total}${unit ? ` ${unit}` : ''} | ETA {eta_formatted} | {detail}`,
      etaBuffer: 20,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 28,
    },
    cliProgress.Presets.shades_classic,
  );
  let t = total;
  bar.start(total, 0, { detail: '' });
  return {
    increment(n = 1, detail = '') {
      bar.increment(n, { detail });
    },
    addTotal(n: number) {
      t += n;
      bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}

/** A line of status on stderr (suppressed when quiet). */
export function note(options: ProgressOptions, message: string): void {
  if (!options.quiet) process.stderr.write(`${message}\n`);
}
