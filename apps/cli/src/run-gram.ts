/**
 * `fmn run`'s Gram files (RegMean, docs/method.md §5.4): computed like the Fisher files, from the
 * same sampled train examples (the plan's fisher samples, seed, max_length), and cached by model
 * and data content and every setting.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '@fmn/core';
import { computeGramFile } from './commands/gram.js';
import { dataHash, hashJson, modelHash } from './hash.js';
import { note, type ProgressOptions } from './progress.js';
import type { ReportFisher } from './report/index.js';
import type { PlanTask, RunPlan } from './runconfig.js';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** A task's Gram file from the cache, or computed on the Fisher's examples and cached. */
export async function cachedGram(
  plan: RunPlan,
  t: PlanTask,
  g: ProgressOptions,
): Promise<ReportFisher & { path: string }> {
  const f = plan.fisher;
  const key = hashJson({
    kind: 'gram',
    model: await modelHash(t.model),
    data: await dataHash(t.fisherData),
    split: t.fisherSplit,
    task: t.task ?? null,
    samples: f.samples,
    batch_size: f.batchSize,
    seed: f.seed,
    max_length: f.maxLength ?? null,
    backend: plan.backend ?? 'auto',
  });
  const path = join(plan.cache, `${slug(t.name)}-gram-${key.slice(0, 16)}.safetensors`);
  if (await exists(path)) {
    const file = await SafetensorsFile.open(path);
    const md = file.metadata;
    await file.close();
    note(g, `Gram matrices of ${t.name} from the cache (${path})`);
    return {
      task: t.name,
      kind: 'gram',
      seconds: Number(md.compute_seconds ?? NaN),
      examples: Number(md.examples ?? NaN),
      cached: true,
      file: path,
      path,
      backend: md.backend ?? '',
    };
  }
  const r = await computeGramFile(
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
    { ...g, label: `Gram ${t.name}` } as ProgressOptions,
  );
  return {
    task: t.name,
    kind: 'gram',
    seconds: r.seconds,
    examples: r.examples,
    cached: false,
    file: path,
    path,
    backend: r.backend,
  };
}
