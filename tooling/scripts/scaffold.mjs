#!/usr/bin/env node
// Scaffolds a workspace package with the project's conventions:
//   node tooling/scripts/scaffold.mjs packages/arch-foo @fmn/arch-foo "description" [dep ...]
import { mkdirSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description, ...deps] = process.argv.slice(2);
if (!dir || !name || !description) {
  console.error('usage: scaffold.mjs DIR NAME DESCRIPTION [@fmn/dep ...]');
  process.exit(2);
}
const root = new URL('../..', import.meta.url).pathname;
const abs = join(root, dir);
mkdirSync(join(abs, 'src'), { recursive: true });
const pkg = {
  name,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  repository: { type: 'git', url: 'git+https://github.com/fmn-project/fmn.git', directory: dir },
  type: 'module',
  sideEffects: false,
  exports: {
    '.': { '@fmn/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', '!dist/**/*.test.*'],
  engines: { node: '>=20' },
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json --noEmit',
    lint: 'eslint .',
    test: 'vitest run',
  },
  dependencies: Object.fromEntries(deps.map((d) => [d, 'workspace:*'])),
  devDependencies: {
    '@fmn/eslint-config': 'workspace:*',
    '@fmn/testkit': 'workspace:*',
    '@fmn/tsconfig': 'workspace:*',
    '@fmn/vitest-config': 'workspace:*',
    '@types/node': '^20.19.0',
    eslint: '9.39.5',
    typescript: '5.9.3',
    vitest: '4.1.12',
  },
};
if (!existsSync(join(abs, 'package.json')))
  writeFileSync(join(abs, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
for (const f of ['tsconfig.json', 'tsconfig.build.json', 'eslint.config.js', 'vitest.config.ts']) {
  if (!existsSync(join(abs, f))) copyFileSync(join(root, 'packages/core', f), join(abs, f));
}
if (!existsSync(join(abs, 'src/index.ts'))) writeFileSync(join(abs, 'src/index.ts'), 'export {};\n');
console.log(`scaffolded ${name} in ${dir}`);
