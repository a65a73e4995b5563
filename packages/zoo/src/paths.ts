/** Where the shipped zoo lives on disk. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Absolute path of the zoo package root (holding data/, tokenizers/, models/); joins `parts`. */
export function zooPath(...parts: string[]): string {
  // this file is src/paths.ts (tests, tsx) or dist/paths.js (published): the root is one level up
  return join(fileURLToPath(new URL('..', import.meta.url)), ...parts);
}
