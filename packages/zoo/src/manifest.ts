/**
 * The zoo's manifest, data/tasks.json: every task shipped (with or without models), its columns,
 * labels, metric, split sizes and bag-of-words baseline, as `pnpm zoo:build` wrote it.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FmnError } from '@fmn/core';
import { zooPath } from './paths.js';
import type { TaskKind, TaskMetric } from './tasks.js';

/** A task as the build defines it: the part of the manifest entry the build knows before writing. */
export interface ZooTaskSpec {
  name: string;
  /** GLUE analogue this task stands in for. */
  analogue: string;
  kind: TaskKind;
  /** TSV text columns, in order, between `id` and `label`. */
  textColumns: string[];
  /** Label names by id (empty for regression). */
  labels: string[];
  /** 1 for regression. */
  numLabels: number;
  metric: TaskMetric;
}

export interface ZooManifestTask extends ZooTaskSpec {
  /** Folder with train.tsv and dev.tsv, absolute (the manifest stores it relative to the zoo root). */
  folder: string;
  /** Examples in train.tsv / dev.tsv. */
  train: number;
  dev: number;
  /** False for a task shipped as data only (no fine-tuned checkpoints). */
  models: boolean;
  /** Dev score of the bag-of-words baseline: `accuracy`, or `pearson` and `spearman`. */
  bow_baseline: Record<string, number>;
}

export interface ZooManifest {
  /** The data seed the tasks were built with. */
  seed: string;
  tasks: ZooManifestTask[];
}

const KINDS: readonly string[] = ['single', 'pair'];
const METRICS: readonly string[] = ['accuracy', 'accuracy_f1', 'pearson_spearman', 'matthews'];

/** Reads and checks `<root>/data/tasks.json` (default root: the installed zoo). */
export async function readZooManifest(root = zooPath()): Promise<ZooManifest> {
  const file = join(root, 'data', 'tasks.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FmnError(`cannot read the zoo manifest: ${(e as Error).message}`, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FmnError(`the zoo manifest is not JSON: ${(e as Error).message}`, file);
  }
  const top = raw as { seed?: unknown; tasks?: unknown };
  if (typeof top !== 'object' || top === null || typeof top.seed !== 'string' || !Array.isArray(top.tasks))
    throw new FmnError('the zoo manifest needs a string "seed" and a "tasks" array', file);
  const tasks = top.tasks.map((t: unknown, i: number) => checkTask(t, i, root, file));
  return { seed: top.seed, tasks };
}

function checkTask(t: unknown, i: number, root: string, file: string): ZooManifestTask {
  const bad = (what: string): never => {
    throw new FmnError(`tasks[${i}]: ${what}`, file);
  };
  if (typeof t !== 'object' || t === null) return bad('not an object');
  const o = t as Record<string, unknown>;
  const str = (k: string): string =>
    typeof o[k] === 'string' ? (o[k] as string) : bad(`"${k}" is not a string`);
  const count = (k: string): number =>
    Number.isInteger(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : bad(`"${k}" is not a count`);
  const strings = (k: string): string[] =>
    Array.isArray(o[k]) && (o[k] as unknown[]).every((x) => typeof x === 'string')
      ? [...(o[k] as string[])]
      : bad(`"${k}" is not a list of strings`);
  const kind = str('kind');
  if (!KINDS.includes(kind)) bad(`unknown kind ${JSON.stringify(kind)}`);
  const metric = str('metric');
  if (!METRICS.includes(metric)) bad(`unknown metric ${JSON.stringify(metric)}`);
  const numLabels = count('numLabels');
  if (numLabels < 1) bad('"numLabels" must be at least 1');
  const baseline = o.bow_baseline ?? {};
  if (
    typeof baseline !== 'object' ||
    baseline === null ||
    !Object.values(baseline).every((v) => typeof v === 'number')
  )
    bad('"bow_baseline" is not a map of numbers');
  return {
    name: str('name'),
    analogue: str('analogue'),
    kind: kind as TaskKind,
    textColumns: strings('textColumns'),
    labels: strings('labels'),
    numLabels,
    metric: metric as TaskMetric,
    folder: resolve(root, typeof o.folder === 'string' ? o.folder : join('data', str('name'))),
    train: count('train'),
    dev: count('dev'),
    models: o.models !== false,
    bow_baseline: { ...(baseline as Record<string, number>) },
  };
}
