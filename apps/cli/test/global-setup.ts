/**
 * Builds what the end-to-end tests spawn: `node dist/bin.js` runs the compiled CLI, which imports
 * the compiled workspace packages (their "default" export, dist/index.js). turbo's test task only
 * builds dependencies (^build), so this builds apps/cli itself, and any workspace dependency whose
 * dist is missing or older than its sources (when the tests run outside turbo).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { TestProject } from 'vitest/node';
import { writeFixtures } from './fixtures.js';

const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(cliDir, '../..');
const tsc = createRequire(join(cliDir, 'package.json')).resolve('typescript/bin/tsc');

function newestSource(dir: string): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(dir, 'src'));
  for (const f of ['package.json', 'tsconfig.build.json']) {
    if (existsSync(join(dir, f))) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

function stale(dir: string, entry: string): boolean {
  const out = join(dir, 'dist', entry);
  return !existsSync(out) || statSync(out).mtimeMs < newestSource(dir);
}

function workspaceDir(name: string): string | undefined {
  for (const base of ['packages', 'apps']) {
    const d = join(root, base, name.replace(/^@fmn\//, ''));
    if (existsSync(join(d, 'package.json'))) return d;
  }
  return undefined;
}

/** Runtime workspace dependencies of a package, dependencies first. */
function buildOrder(dir: string, seen = new Set<string>(), order: string[] = []): string[] {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const [name, spec] of Object.entries(pkg.dependencies ?? {})) {
    if (!spec.startsWith('workspace:')) continue;
    const d = workspaceDir(name);
    if (!d || seen.has(d)) continue;
    seen.add(d);
    buildOrder(d, seen, order);
    order.push(d);
  }
  return order;
}

function build(dir: string, strict: boolean): void {
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    const msg = `${(e as { stdout?: Buffer }).stdout?.toString() ?? ''}${(e as { stderr?: Buffer }).stderr?.toString() ?? ''}`;
    // tsc still emits JavaScript on type errors; a dependency's type errors are its own tests' business
    if (strict || !existsSync(join(dir, 'dist', 'index.js')))
      throw new Error(`build of ${dir} failed:\n${msg}`);
    console.warn(`warning: ${dir} built with type errors:\n${msg.slice(0, 2000)}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  for (const dir of buildOrder(cliDir)) if (stale(dir, 'index.js')) build(dir, false);
  if (stale(cliDir, 'bin.js')) build(cliDir, true);
  const fx = await mkdtemp(join(tmpdir(), 'fmn-cli-fx-'));
  await writeFixtures(fx);
  project.provide('fx', fx);
  return () => rm(fx, { recursive: true, force: true });
}
