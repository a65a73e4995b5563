/**
 * A problem with the user's input (a file, an option, a model): reported as one clear line.
 * `file` names the offending file or folder when there is one; the message already includes it.
 */
export class FmnError extends Error {
  readonly file?: string;
  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super(file ? `${file}: ${message}` : message, options);
    this.name = 'FmnError';
    this.file = file;
  }
}

export function isFmnError(e: unknown): e is FmnError {
  return e instanceof Error && e.name === 'FmnError';
}

/**
 * A file-system error (ENOSPC on a write, EISDIR on a read) from a call that knows no path:
 * `path` is set to the file it was about, so the report names it. Other values pass unchanged.
 */
export function withPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof err.code === 'string' && err.path === undefined) err.path = path;
  return e;
}
