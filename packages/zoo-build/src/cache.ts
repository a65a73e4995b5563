/** The build's own cache folder (packages/zoo-build/.cache, not committed, not shipped). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Where `pnpm zoo:build` keeps what it generates but does not ship; joins `parts`. */
export function buildCachePath(...parts: string[]): string {
  // this file is src/cache.ts (tests, tsx) or dist/cache.js: the package root is one level up
  return join(fileURLToPath(new URL('..', import.meta.url)), '.cache', ...parts);
}

/** The masked-language-model corpus `zoo:data` writes (~11 MB) and `zoo:models` pre-trains on. */
export function mlmCorpusPath(): string {
  return buildCachePath('mlm-corpus.txt');
}
