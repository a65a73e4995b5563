/**
 * A closed pipe on the reading side (`fmn inspect DIR | head -3`) is how a reader says it has
 * seen enough, not an error: like a Unix filter killed by SIGPIPE, fmn stops quietly, exit 0.
 * Node ignores SIGPIPE, so a write to the closed pipe fails with EPIPE on the stream instead.
 */
export function exitQuietlyOnEpipe(
  stream: NodeJS.WriteStream,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      exit(0);
      return;
    }
    throw e;
  });
}
