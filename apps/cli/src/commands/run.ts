import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import {
  pathExists,
  FmnError,
  checkOutputPath,
  fmnTempPath,
  readMaskFisher,
  recoverOutput,
  registerLiveTemp,
} from '@fmn/core';
import { mergeMethod } from '@fmn/merge';
import { globals, out } from '../context.js';
import { quantiles } from '../heatmap.js';
import { startBackend, type EvalResult } from '../pipeline.js';
import { note, type ProgressOptions } from '../progress.js';
import {
  QUANTILES,
  renderText,
  runIntervals,
  type Interval,
  writeReport,
  type Report,
  type ReportFisher,
  type ReportMaskFisher,
  type ReportMerge,
  type ReportTask,
  type Score,
} from '../report/index.js';
import { configHelp, combinations, readRunConfig, type PlanTask, type RunPlan } from '../runconfig.js';
import { evaluateModel } from './eval.js';
import { runMerge, type MergeCliOptions } from './merge.js';
import { searchForPlan } from '../search/plan-search.js';
import type { SearchReport } from '../search/run-search.js';
import { cachedFisher, cachedGram, slug } from '../run-cache.js';

class Stages {
  readonly list: { stage: string; seconds: number }[] = [];
  async time<T>(stage: string, f: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      const s = (performance.now() - t0) / 1000;
      const e = this.list.find((x) => x.stage === stage);
      if (e) e.seconds += s;
      else this.list.push({ stage, seconds: s });
    }
  }
}

function toScore(r: EvalResult, ci95: Interval): Score {
  return { metrics: r.metrics as Record<string, number>, score: r.score, examples: r.examples, ci95 };
}

export interface ExecuteOptions extends ProgressOptions {
  /** extra notes for the report */
  notes?: string[];
}

/** Runs the paper's protocol for a plan and writes report.json / .md / .html into plan.output. */
export async function executePlan(plan: RunPlan, g: ExecuteOptions): Promise<Report> {
  for (const t of plan.tasks) {
    if (!(await pathExists(t.model)))
      throw new FmnError(`model folder of task "${t.name}" not found`, t.model);
    if (!(await pathExists(t.fisherData)))
      throw new FmnError(`Fisher data of task "${t.name}" not found`, t.fisherData);
    if (!(await pathExists(t.evalData)))
      throw new FmnError(`evaluation data of task "${t.name}" not found`, t.evalData);
  }
  if (plan.base && !(await pathExists(plan.base)))
    throw new FmnError('base model folder not found', plan.base);
  // the report files are replaced on every run (the cache makes reruns cheap), but never an input
  const inputs = [
    ...plan.tasks.flatMap((t) => [
      { path: t.model, what: `the model of task "${t.name}"` },
      { path: t.fisherData, what: `the Fisher data of task "${t.name}"` },
      { path: t.evalData, what: `the evaluation data of task "${t.name}"` },
    ]),
    ...(plan.base ? [{ path: plan.base, what: 'the base model' }] : []),
  ];
  for (const f of ['report.json', 'report.md', 'report.html']) {
    await checkOutputPath(join(plan.output, f), inputs, { kind: 'file', force: true });
  }
  await mkdir(plan.output, { recursive: true });
  await mkdir(plan.cache, { recursive: true });
  const backend = await startBackend(plan.backend, g);
  const stages = new Stages();
  const evalSettings = (model: string, t: PlanTask) => ({
    model,
    data: t.evalData,
    split: t.evalSplit,
    task: t.task,
    backend: plan.backend,
    batchSize: plan.eval.batchSize,
    maxLength: plan.eval.maxLength,
  });

  // 1. fine-tuned models alone
  const evaluated: { name: string; finetuned: EvalResult }[] = [];
  await stages.time('evaluate fine-tuned', async () => {
    for (const t of plan.tasks) {
      const r = await evaluateModel(evalSettings(t.model, t), { ...g, label: `eval ${t.name}` });
      evaluated.push({ name: t.name, finetuned: r });
      note(
        g,
        `${t.name} fine-tuned: ${Object.entries(r.metrics)
          .map(([k, v]) => `${k} ${(v as number).toFixed(4)}`)
          .join(', ')}`,
      );
    }
  });

  // 2. Fisher (cached)
  const fisher: (ReportFisher & { path: string })[] = [];
  // the mask Fisher is cheap and feeds the report's heatmaps: computed for every model, always
  const needFull = plan.methods.some((m) => mergeMethod(m.method).needs.fullFisher);
  const maskFisher: ReportMaskFisher[] = [];
  await stages.time('mask Fisher', async () => {
    for (const t of plan.tasks) {
      const f = await cachedFisher(plan, t, 'mask', g);
      fisher.push(f);
      const m = await readMaskFisher(f.path);
      const { layers, heads, intermediate } = m.layout;
      maskFisher.push({
        task: t.name,
        layers,
        heads,
        intermediate,
        head: Array.from(m.head),
        neuron: Array.from({ length: layers }, (_, l) => {
          const row = m.neuron.subarray(l * intermediate, (l + 1) * intermediate);
          return {
            mean: row.reduce((a, b) => a + b, 0) / intermediate,
            quantiles: quantiles(row, QUANTILES),
          };
        }),
      });
    }
  });
  if (needFull) {
    await stages.time('full Fisher', async () => {
      for (const t of plan.tasks) fisher.push(await cachedFisher(plan, t, 'full', g));
    });
  }
  // RegMean's Gram matrices, on the Fisher's examples (cached like the Fisher files)
  if (plan.methods.some((m) => mergeMethod(m.method).needs.gram)) {
    await stages.time('Gram matrices', async () => {
      for (const t of plan.tasks) fisher.push(await cachedGram(plan, t, g));
    });
  }
  const fisherFile = (t: PlanTask, kind: 'mask' | 'full' | 'gram') =>
    fisher.find((f) => f.task === t.name && f.kind === kind)?.path;

  // 3. merge every combination with every method; evaluate each task with its own head
  const merged: {
    method: string;
    tasks: string[];
    evals: Record<string, EvalResult>;
    seconds: number;
    search?: SearchReport;
  }[] = [];
  // merged models live in <output>/merges (keep_models) or in a scratch folder named as fmn's temps
  const mergesDir = join(plan.output, 'merges');
  await recoverOutput(mergesDir); // a killed run's scratch folder
  const workRoot = plan.keepModels ? mergesDir : fmnTempPath(mergesDir, 'tmp');
  const unregister = plan.keepModels ? () => undefined : registerLiveTemp(workRoot);
  try {
    for (const k of plan.k) {
      for (const combo of combinations(plan.tasks, k)) {
        for (const m of plan.methods) {
          const dir = join(workRoot, `${combo.map((t) => slug(t.name)).join('+')}__${slug(m.label)}`);
          const label = `${m.label} ${combo.map((t) => t.name).join('+')}`;
          let spec: Omit<MergeCliOptions, 'out' | 'force'> = {
            method: m.method,
            models: combo.map((t) => ({
              dir: t.model,
              fisher: mergeMethod(m.method).needs.maskFisher
                ? fisherFile(t, 'mask')
                : mergeMethod(m.method).needs.fullFisher
                  ? fisherFile(t, 'full')
                  : undefined,
              gram: mergeMethod(m.method).needs.gram ? fisherFile(t, 'gram') : undefined,
            })),
            base: mergeMethod(m.method).needs.base ? plan.base : undefined,
            lambda: m.lambda === undefined ? undefined : [m.lambda],
            options: m.options,
          };
          // docs/method.md §5.6: the coefficients chosen on held-out train examples
          let search: SearchReport | undefined;
          if (m.search) {
            const r = await stages.time('coefficient search', () =>
              searchForPlan(plan, combo, spec, `${dir}.search`, g),
            );
            ({ merge: spec, search } = r);
          }
          const t0 = performance.now();
          const rep = await stages.time('merge', () =>
            runMerge({ ...spec, force: true, out: dir }, { ...g, label }),
          );
          const mergeSeconds = (performance.now() - t0) / 1000;
          const evals: Record<string, EvalResult> = {};
          await stages.time('evaluate merged', async () => {
            for (const [i, t] of combo.entries()) {
              evals[t.name] = await evaluateModel(evalSettings(join(dir, rep.inputs[i].output), t), {
                ...g,
                label: `eval ${t.name}`,
              });
            }
          });
          merged.push({
            method: m.label,
            tasks: combo.map((t) => t.name),
            evals,
            seconds: mergeSeconds,
            ...(search ? { search } : {}),
          });
          note(
            g,
            `${label}: ${combo.map((t) => `${t.name} ${(100 * evals[t.name].score).toFixed(2)}`).join(', ')}`,
          );
          if (!plan.keepModels) await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    if (!plan.keepModels) await rm(workRoot, { recursive: true, force: true });
    unregister();
  }

  // 4. 95% paired-bootstrap intervals of every score and of each method's difference from average
  const methods = plan.methods.map((m) => m.label);
  const iv = await stages.time('bootstrap intervals', async () => runIntervals(evaluated, merged, methods));
  const tasks: ReportTask[] = plan.tasks.map((t, i) => ({
    name: t.name,
    model: t.model,
    evalData: t.evalData,
    fisherData: t.fisherData,
    metricNames: Object.keys(evaluated[i].finetuned.metrics),
    finetuned: toScore(evaluated[i].finetuned, iv.finetuned[t.name]),
  }));
  const merges: ReportMerge[] = merged.map((m, i) => ({
    method: m.method,
    tasks: m.tasks,
    scores: Object.fromEntries(m.tasks.map((t) => [t, toScore(m.evals[t], iv.merges[i][t])])),
    seconds: m.seconds,
    ...(m.search ? { search: m.search } : {}),
  }));

  const archs = new Set<string>();
  for (const t of plan.tasks) {
    const { readJsonFile } = await import('@fmn/core');
    const c = await readJsonFile<{ model_type?: string }>(join(t.model, 'config.json'), 'config.json');
    archs.add(c.model_type ?? '?');
  }
  const report: Report = {
    format: 'fmn-report',
    version: 1,
    title: plan.title,
    created: new Date().toISOString(),
    architecture: [...archs].join(', '),
    backend: `${backend.name} (${backend.runtime})`,
    methods,
    tasks,
    merges,
    bootstrap: iv.bootstrap,
    comparisons: iv.comparisons,
    tableIntervals: iv.tableIntervals,
    fisher: fisher.map(({ path: _path, ...f }) => ({ ...f, file: relative(plan.output, f.file) || f.file })),
    maskFisher,
    stages: stages.list,
    notes: g.notes ?? [],
  };
  await writeReport(plan.output, report);
  return report;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      "Run the paper's protocol from a configuration file: Fisher for every model (cached by model, data and settings), " +
        'merge every combination of k tasks with each method, evaluate each task with its own head, and write ' +
        'report.json, report.md and report.html.',
    )
    .argument('<config>', 'run configuration (.json, .yaml or .yml)')
    .addHelpText('after', `\n${configHelp()}`)
    .option('--json', 'print the report (as report.json) instead of the tables')
    .action(async (config: string, opts: { json?: boolean }, command: Command) => {
      const g = globals(command);
      const plan = await readRunConfig(config);
      const report = await executePlan(plan, g);
      if (opts.json) {
        out(JSON.stringify(report));
        return;
      }
      out(renderText(report));
      out();
      out(`report: ${join(plan.output, 'report.html')} (also report.md, report.json)`);
    });
}
