import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { FmnError } from '@fmn/core';
import { globals, out } from '../context.js';
import { parseSamples } from '../options.js';
import { backendOption } from '../pipeline.js';
import { note } from '../progress.js';
import { renderText } from '../report/index.js';
import type { PlanMethod, RunPlan } from '../runconfig.js';
import { executePlan } from './run.js';

export const DEMO_ARCHS = ['bert', 'roberta', 'distilbert', 'electra'] as const;

/**
 * Where `fmn demo` finds the zoo (data/, models/): $FMN_ZOO_DIR, else the workspace's
 * packages/zoo beside this CLI (a checkout of the fmn repository), else an installed @fmn/zoo
 * package. The CLI does not depend on the zoo (34 MB of models that only the demo reads; an
 * optional peer) and never on @fmn/zoo-build, the pipeline that makes it: it only reads the files.
 */
export async function zooRoot(
  env: Record<string, string | undefined> = process.env,
  cliDir = fileURLToPath(new URL('../..', import.meta.url)),
): Promise<string> {
  const fromEnv = env.FMN_ZOO_DIR;
  if (fromEnv) return resolve(fromEnv);
  // this file is apps/cli/{src,dist}/commands/demo.*; the workspace root is two levels above apps/cli
  const workspace = resolve(cliDir, '..', '..', 'packages', 'zoo');
  if (await isDir(join(workspace, 'models'))) return workspace;
  try {
    // optional: installed next to the CLI (npm install @fmn/zoo)
    const entry = fileURLToPath(import.meta.resolve('@fmn/zoo'));
    return resolve(dirname(entry), '..');
  } catch {
    throw new FmnError(
      'the demo needs the zoo (its data and models), which is not installed with the CLI: ' +
        'run it in a checkout of the fmn repository (packages/zoo), install it next to the CLI ' +
        '(ONNXRUNTIME_NODE_INSTALL=skip npm install @fmn/zoo), or give --zoo DIR (or FMN_ZOO_DIR)',
    );
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

interface ZooTask {
  name: string;
  models?: boolean;
  folder?: string;
  task?: string;
}

/**
 * The demo's methods (issues 9 and 16): average, fisher, fisher-nodes (paper and block), task
 * arithmetic, TIES, RegMean (Gram matrices on the Fisher's examples) and fisher-nodes with each
 * model's mask Fisher divided by its mean (docs/method.md §5.5). New methods go at the end: the
 * earlier rows and their numbers do not depend on them.
 */
export const DEMO_METHODS: PlanMethod[] = [
  { label: 'average', method: 'average' },
  { label: 'fisher', method: 'fisher' },
  { label: 'fisher-nodes', method: 'fisher-nodes', options: { mapping: 'paper' } },
  { label: 'fisher-nodes (block)', method: 'fisher-nodes', options: { mapping: 'block' } },
  { label: 'task-arithmetic', method: 'task-arithmetic' },
  { label: 'ties', method: 'ties' },
  { label: 'regmean', method: 'regmean' },
  {
    label: 'fisher-nodes (normalised)',
    method: 'fisher-nodes',
    options: { mapping: 'paper', fisherNormalize: 'mean' },
  },
];

/**
 * The run plan of `fmn demo` on the zoo: zoo/data/<task>/{train,dev}.tsv (listed in
 * zoo/data/tasks.json) and zoo/models/<arch>/{base,<task>}. Fails with a clear message when the
 * zoo's checkpoints are not there.
 */
export interface DemoOptions {
  /** Fisher examples per task (drawn from its train split with seed 0), the same for mask and full Fisher */
  samples?: number | 'all';
  /** the zoo folder (default: see zooRoot) */
  zoo?: string;
  backend?: string;
}

/**
 * Per task, the train rows its zoo model was not fine-tuned on (`tasks.<name>.held_out.rows` in
 * models/<arch>/results.json): the demo's coefficient search holds out only these. A zoo without
 * that record (built before it was kept) gives none: the search then draws from all of train.
 */
export async function zooHeldOutRows(resultsFile: string): Promise<Map<string, number[]>> {
  let text: string;
  try {
    text = await readFile(resultsFile, 'utf8');
  } catch {
    return new Map();
  }
  let tasks: Record<string, { held_out?: { rows?: unknown } }>;
  try {
    tasks = (JSON.parse(text) as { tasks?: typeof tasks }).tasks ?? {};
  } catch (e) {
    throw new FmnError(`not valid JSON: ${(e as Error).message}`, resultsFile);
  }
  const out = new Map<string, number[]>();
  for (const [name, t] of Object.entries(tasks)) {
    const rows = t?.held_out?.rows;
    if (rows === undefined) continue;
    if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Number.isInteger(r) && r >= 0))
      throw new FmnError(`tasks.${name}.held_out.rows must be a non-empty list of row indices`, resultsFile);
    out.set(name, rows as number[]);
  }
  return out;
}

/** Fisher examples per task in `fmn demo` (docs/method.md: a little task data suffices for the masks). */
export const DEMO_SAMPLES = 256;

export async function demoPlan(arch: string, output: string, options: DemoOptions = {}): Promise<RunPlan> {
  const zoo = options.zoo;
  const root = zoo ?? (await zooRoot());
  const tasksFile = join(root, 'data', 'tasks.json');
  let listed: ZooTask[];
  try {
    const parsed = JSON.parse(await readFile(tasksFile, 'utf8')) as { tasks?: ZooTask[] };
    listed = parsed.tasks ?? [];
  } catch {
    throw new FmnError(
      'the zoo has no task list (data/tasks.json); build the zoo data first (pnpm zoo:build)',
      tasksFile,
    );
  }
  // tasks shipped as data only (`models: false`) have no checkpoints to merge
  listed = listed.filter((t) => t.models !== false);
  if (listed.length < 2) throw new FmnError('the zoo lists fewer than two tasks with models', tasksFile);
  const models = join(root, 'models', arch);
  const missing: string[] = [];
  if (!(await isDir(join(models, 'base')))) missing.push('base');
  for (const t of listed) if (!(await isDir(join(models, t.name)))) missing.push(t.name);
  if (missing.length) {
    throw new FmnError(
      `the zoo has no ${arch} checkpoints yet (missing ${missing.join(', ')} under ${models}); build them with \`pnpm zoo:build\` (see packages/zoo-build/README.md)`,
      models,
    );
  }
  const heldOut = await zooHeldOutRows(join(models, 'results.json'));
  return {
    file: '(fmn demo)',
    title: `fmn demo: mini-GLUE, ${arch}`,
    output,
    cache: join(output, 'fisher-cache'),
    base: join(models, 'base'),
    keepModels: false,
    backend: options.backend,
    fisher: { samples: options.samples ?? DEMO_SAMPLES, batchSize: 32, seed: 0, convention: 'batch' },
    eval: { batchSize: 64 },
    search: { holdout: 256, seed: 0, samples: 20 },
    k: [2, listed.length],
    methods: DEMO_METHODS,
    tasks: listed.map((t) => {
      const data = join(root, t.folder ?? join('data', t.name));
      return {
        name: t.name,
        model: join(models, t.name),
        fisherData: join(data, 'train.tsv'),
        fisherSplit: 'train',
        evalData: join(data, 'dev.tsv'),
        evalSplit: 'dev',
        task: t.task,
        searchRows: heldOut.get(t.name),
      };
    }),
  };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      "The main job on the shipped zoo: mask and full Fisher of each task's model, merges of every pair of tasks and of " +
        'all tasks with average, fisher, fisher-nodes (paper and block), task-arithmetic, ties, regmean (Gram matrices ' +
        'on the same examples) and fisher-nodes with mean-normalised Fishers, each task evaluated with its own head; ' +
        'prints the table and the Fisher times, writes report.html.',
    )
    .addOption(
      new Option('--arch <arch>', 'architecture of the zoo models').choices([...DEMO_ARCHS]).default('bert'),
    )
    .option('--out <dir>', 'report folder', 'fmn-demo')
    .option(
      '--samples <n|all>',
      `Fisher examples per task, from its train split (mask and full Fisher use the same ones); more than fmn fisher's default of 128 (docs/method.md section 3) because the zoo's tasks are small and noisy`,
      parseSamples,
      DEMO_SAMPLES,
    )
    .option(
      '--zoo <dir>',
      "zoo folder with data/ and models/ (default: $FMN_ZOO_DIR, the workspace's packages/zoo, or an installed @fmn/zoo)",
    )
    .addOption(backendOption())
    .option('--json', 'print the report (as report.json) instead of the tables')
    .action(
      async (
        opts: {
          arch: string;
          out: string;
          samples: number | 'all';
          zoo?: string;
          backend?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const g = globals(command);
        const plan = await demoPlan(opts.arch, resolve(opts.out), {
          samples: opts.samples,
          zoo: opts.zoo ? resolve(opts.zoo) : undefined,
          backend: opts.backend,
        });
        note(
          g,
          `demo: ${plan.tasks.length} ${opts.arch} models fine-tuned from one base (${plan.tasks.map((t) => t.name).join(', ')}); ` +
            `mask and full Fisher on ${opts.samples} train examples each; merging every pair and all ${plan.tasks.length} tasks with ${DEMO_METHODS.length} methods`,
        );
        const report = await executePlan(plan, {
          ...g,
          notes: [
            `fmn demo on the @fmn/zoo ${opts.arch} models (mini-GLUE from WordNet 3.1 and AFINN-165; see packages/zoo/README.md).`,
            `Fisher: ${opts.samples} examples per task from its train split (seed 0); mask Fisher in the batch convention, full Fisher per example; evaluation on each task's dev split with its own head.`,
          ],
        });
        if (opts.json) {
          out(JSON.stringify(report));
          return;
        }
        out(renderText(report));
        out();
        out(`report: ${join(plan.output, 'report.html')} (also report.md, report.json)`);
      },
    );
}
