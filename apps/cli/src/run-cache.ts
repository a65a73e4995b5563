/**
 * `fmn run`'s cache of per-task sums files (mask Fisher, full Fisher, Gram matrices; docs/method.md
 * §3, §4, §5.4): each computed from the plan's sampled train examples and cached under a key of
 * the model and data content and every setting, so a second run reads it instead.
 */
import { join } from 'node:path';
import { pathExists, SafetensorsFile } from '@fmn/core';
import { computeFisherFile } from './commands/fisher.js';
import { computeGramFile } from './commands/gram.js';
import { fileConvention } from './fisher-convention.js';
import { dataHash, hashJson, modelHash } from './hash.js';
import { note, type ProgressOptions } from './progress.js';
import type { ReportFisher } from './report/index.js';
import type { PlanTask, RunPlan } from './runconfig.js';
import type { SampledDataSettings } from './sampled-data.js';

/** A name made safe for a file name. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

type CachedFile = ReportFisher & { path: string };

/**
 * The file of `kind` for task `t` from the cache, else computed by `compute` (given the task's
 * sampled-data settings and the cache path) and left in the cache. `extraKey` holds the settings
 * of this kind beyond the sample (they sit in the key between `seed` and `max_length`).
 */
async function cachedSums(
  plan: RunPlan,
  t: PlanTask,
  kind: ReportFisher['kind'],
  what: string,
  extraKey: Record<string, unknown>,
  g: ProgressOptions,
  compute: (
    s: SampledDataSettings,
    path: string,
    progress: ProgressOptions,
  ) => Promise<{ seconds: number; examples: number; backend: string }>,
): Promise<CachedFile> {
  const f = plan.fisher;
  const key = hashJson({
    kind,
    model: await modelHash(t.model),
    data: await dataHash(t.fisherData),
    split: t.fisherSplit,
    task: t.task ?? null,
    samples: f.samples,
    batch_size: f.batchSize,
    seed: f.seed,
    ...extraKey,
    max_length: f.maxLength ?? null,
    backend: plan.backend ?? 'auto',
  });
  const path = join(plan.cache, `${slug(t.name)}-${kind}-${key.slice(0, 16)}.safetensors`);
  const found = { task: t.name, kind, cached: true, file: path, path };
  if (await pathExists(path)) {
    const file = await SafetensorsFile.open(path);
    const md = file.metadata;
    await file.close();
    note(g, `${what} of ${t.name} from the cache (${path})`);
    return {
      ...found,
      seconds: Number(md.compute_seconds ?? NaN),
      examples: Number(md.examples ?? NaN),
      backend: md.backend ?? '',
    };
  }
  const r = await compute(
    {
      model: t.model,
      data: t.fisherData,
      split: t.fisherSplit,
      task: t.task,
      backend: plan.backend,
      samples: f.samples,
      batchSize: f.batchSize,
      seed: f.seed,
      maxLength: f.maxLength,
    },
    path,
    { ...g, label: `${what} ${t.name}` } as ProgressOptions,
  );
  return { ...found, cached: false, seconds: r.seconds, examples: r.examples, backend: r.backend };
}

/** A task's mask or full Fisher file, from the cache or computed and cached. */
export function cachedFisher(
  plan: RunPlan,
  t: PlanTask,
  kind: 'mask' | 'full',
  g: ProgressOptions,
): Promise<CachedFile> {
  const convention = plan.fisher.convention;
  return cachedSums(
    plan,
    t,
    kind,
    `${kind} Fisher`,
    { convention: fileConvention({ full: kind === 'full', convention }) },
    g,
    (s, path, progress) => computeFisherFile({ ...s, convention, full: kind === 'full' }, path, progress),
  );
}

/** A task's Gram file (RegMean), computed on the Fisher's examples, from the cache or computed and cached. */
export function cachedGram(plan: RunPlan, t: PlanTask, g: ProgressOptions): Promise<CachedFile> {
  return cachedSums(plan, t, 'gram', 'Gram matrices', {}, g, computeGramFile);
}
