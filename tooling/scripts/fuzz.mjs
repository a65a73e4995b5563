#!/usr/bin/env node
// `pnpm fuzz`: runs every parser fuzz property (the *.fuzz.test.ts files) long, with a random seed.
// FMN_FUZZ_SEED fixes the seed (to replay a failure), FMN_FUZZ_RUNS the runs per property
// (default 2000; the normal test suite runs each with a fixed seed and 100-200 runs).
// Packages are run one after another (the machine is shared); the seed is printed first and again
// with any failure.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const seed = process.env.FMN_FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
const runs = process.env.FMN_FUZZ_RUNS || '2000';

function fuzzFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fuzzFiles(p, out);
    else if (name.endsWith('.fuzz.test.ts')) out.push(p);
  }
  return out;
}

const packages = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    const src = join(dir, 'src');
    let files = [];
    try {
      files = fuzzFiles(src);
    } catch {
      continue;
    }
    if (files.length > 0) packages.push({ dir, files: files.map((f) => relative(dir, f)) });
  }
}

console.log(`fuzz: seed ${seed}, ${runs} runs per property, ${packages.length} packages`);
const env = { ...process.env, FMN_FUZZ_SEED: seed, FMN_FUZZ_RUNS: runs };
for (const { dir, files } of packages) {
  console.log(`fuzz: ${relative(root, dir)}: ${files.join(', ')}`);
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--testTimeout=86400000', ...files], {
    cwd: dir,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(
      `fuzz: FAILED in ${relative(root, dir)}; replay with FMN_FUZZ_SEED=${seed} FMN_FUZZ_RUNS=${runs} pnpm fuzz`,
    );
    process.exit(1);
  }
}
console.log(`fuzz: all properties held (seed ${seed}, ${runs} runs each)`);
