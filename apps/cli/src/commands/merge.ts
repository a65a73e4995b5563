import { Command, Option } from 'commander';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FmnError, fmnTempPath, readJsonFile, writeFileAtomic, type HfConfig } from '@fmn/core';
import { ensureTokenizerJson } from '@fmn/data';
import {
  listMergeMethods,
  mergeMethod,
  mergeMethodNames,
  merge,
  type MergeModelInput,
  type MergeReport,
  type OptionValue,
} from '@fmn/merge';
import { globals, out } from '../context.js';
import { note, progressBar, type ProgressOptions } from '../progress.js';
import { parseNumber } from '../options.js';
import {
  addMethodChoice,
  addMethodFlags,
  attributeOf,
  methodFlags,
  methodOptionsFromCli,
  methodsNeeding,
} from '../merge-methods.js';
import { configMerge, readMergeConfig } from '../merge-config.js';
import { modelDir } from '../model-path.js';
import { parseIntOption } from '../options.js';
import { backendOption } from '../pipeline.js';
import { DEFAULT_DIRICHLET_SAMPLES } from '../search/candidates.js';
import { DEFAULT_HOLDOUT } from '../search/holdout.js';
import { runSearch, withCoefficients, type SearchReport } from '../search/run-search.js';

export interface MergeCliOptions {
  method: string;
  models: { dir: string; fisher?: string; gram?: string }[];
  base?: string;
  lambda?: number[];
  /** the method's options by key (see its spec); missing ones take their defaults */
  options?: Record<string, OptionValue>;
  dtype?: 'F32' | 'F16' | 'BF16';
  force?: boolean;
  /** merge even when a Fisher file records another model than the one it is given for */
  allowFisherMismatch?: boolean;
  out: string;
}

/** Runs a merge with a progress bar; returns the merge report. Shared by `merge` and `run`. */
export async function runMerge(
  o: MergeCliOptions,
  progress: ProgressOptions & { label?: string },
): Promise<MergeReport> {
  const M = o.models.length;
  let lambdas: number[] | undefined;
  if (o.lambda && o.lambda.length > 0) {
    if (o.lambda.length === 1) lambdas = Array.from({ length: M }, () => o.lambda![0]);
    else if (o.lambda.length === M) lambdas = o.lambda;
    else
      throw new FmnError(
        `--lambda: give one value for every model or one per model (${M}), got ${o.lambda.length}`,
      );
  }
  const models: MergeModelInput[] = o.models.map((m, j) => ({
    dir: m.dir,
    fisher: m.fisher,
    gram: m.gram,
    lambda: lambdas?.[j],
  }));
  let bar: ReturnType<typeof progressBar> | undefined;
  let phase = '';
  let report: MergeReport;
  try {
    report = await merge({
      method: o.method,
      models,
      base: o.base,
      options: o.options,
      out: o.out,
      force: o.force,
      allowFisherMismatch: o.allowFisherMismatch,
      dtype: o.dtype,
      onWarning: (m) => note(progress, `warning: ${m}`),
      onProgress: (p) => {
        const key = `${p.phase}${p.pass ?? ''}`;
        if (key !== phase) {
          bar?.stop();
          phase = key;
          const what = p.phase === 'merge' ? 'merge' : `analyse${p.pass ? ` ${p.pass}` : ''}`;
          bar = progressBar(progress, `${progress.label ?? o.method} ${what}`.padEnd(24), p.total, 'tensors');
        }
        bar?.increment(1);
      },
    });
  } finally {
    bar?.stop();
  }
  // a merged folder carries tokenizer.json (transformers.js and fast AutoTokenizers need it): built
  // from the vocabulary files when the inputs had none
  for (const i of report.inputs) {
    const dir = join(o.out, i.output);
    await ensureTokenizerJson(dir, await readJsonFile<HfConfig>(join(dir, 'config.json'), 'config.json'));
  }
  return report;
}

export function registerMerge(program: Command): void {
  // --fisher pairs with the --model before it: commander calls the parsers in command-line order.
  let models: { dir: string; fisher?: string; gram?: string }[] = [];
  const cmd = program
    .command('merge')
    .description(
      'Merge fine-tuned checkpoints of one architecture (docs/method.md §5). Every input keeps its own ' +
        'classification head: the output folder gets one HuggingFace model folder per input plus merge-report.json.',
    );
  // --method is required unless --config describes the merge (checked in the action)
  addMethodChoice(cmd, false)
    .option(
      '--config <file>',
      "one merge described in mergekit's YAML (merge_method, base_model, models, parameters, dtype); see the CLI README",
    )
    .option(
      '--model <dir>',
      'a fine-tuned HuggingFace model folder (repeat for each model, at least two)',
      (dir: string) => {
        models.push({ dir: modelDir(dir) });
        return models;
      },
    )
    .option(
      '--fisher <file>',
      `the Fisher file of the preceding --model (${methodsNeeding('fisher').join(', ')}): a mask Fisher (fmn fisher) or a full Fisher (fmn fisher --full), as the method needs`,
      (file: string) => {
        const last = models[models.length - 1];
        if (!last) throw new FmnError(`--fisher ${file}: give it after the --model it belongs to`);
        if (last.fisher)
          throw new FmnError(
            `--fisher ${file}: model ${last.dir} already has a Fisher file (${last.fisher})`,
          );
        last.fisher = file;
        return file;
      },
    )
    .option(
      '--gram <file>',
      `the Gram file of the preceding --model (fmn gram; needed by ${methodsNeeding('gram').join(', ')})`,
      (file: string) => {
        const last = models[models.length - 1];
        if (!last) throw new FmnError(`--gram ${file}: give it after the --model it belongs to`);
        if (last.gram)
          throw new FmnError(`--gram ${file}: model ${last.dir} already has a Gram file (${last.gram})`);
        last.gram = file;
        return file;
      },
    )
    .option(
      '--base <dir>',
      `the pre-trained base model (needed by ${methodsNeeding('base').join(', ')})`,
      modelDir,
    )
    .option(
      '--lambda <x...>',
      `coefficients: one per model (lambda_j), or one value for all; for ${listMergeMethods()
        .filter((m) => m.options.some((o) => o.key === 'scale'))
        .map((m) => m.name)
        .join(', ')} a single value scales the summed task vectors; mergekit-*: mergekit's weights`,
      (v: string, prev: number[] | undefined) => [...(prev ?? []), parseNumber('--lambda', v)],
    );
  addMethodFlags(cmd)
    .addOption(
      new Option(
        '--dtype <dtype>',
        "write floating-point tensors in this dtype (default: each input tensor's own)",
      ).choices(['F32', 'F16', 'BF16']),
    )
    .option(
      '--allow-fisher-mismatch',
      'merge even when a Fisher file records another model (model type or weights hash) than the --model it follows (a warning instead of an error)',
    )
    .option(
      '--search',
      'choose the coefficients (the scale of task-arithmetic/ties/dare; lambda_j of average/fisher/fisher-nodes/regmean) by the mean held-out score over the tasks (docs/method.md §5.6); needs one --data per --model',
    )
    .option(
      '--data <file>',
      "--search: the train data of each --model's task, in --model order (a file, or a task folder: split train; never dev)",
      (file: string, prev: string[] | undefined) => [...(prev ?? []), file],
    )
    .option(
      '--search-holdout <n>',
      "--search: held-out examples per task, drawn (seeded) from its train data minus its Fisher / Gram file's examples",
      (v) => parseIntOption('--search-holdout', v, 1),
      DEFAULT_HOLDOUT,
    )
    .option(
      '--search-seed <n>',
      '--search: seed of the held-out draw and the Dirichlet samples',
      (v) => parseIntOption('--search-seed', v),
      0,
    )
    .option(
      '--search-samples <n>',
      '--search with more than two models: Dirichlet(1) samples of the lambdas besides the uniform point',
      (v) => parseIntOption('--search-samples', v),
      DEFAULT_DIRICHLET_SAMPLES,
    )
    .addOption(backendOption())
    .option('--force', 'replace the output folder if it exists')
    .option('--out <dir>', 'output folder (with --config: replaces its "out")')
    .option(
      '--json',
      'print one JSON object: out, seconds and the merge report (method, inputs, lambdas, shares, ...)',
    )
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const g = globals(command);
      const chosen = models;
      models = [];
      if (opts.config !== undefined) {
        await mergeFromConfig(String(opts.config), chosen.length > 0, opts, command, g);
        return;
      }
      if (opts.method === undefined) throw new FmnError('merge: give --method (or --config FILE)');
      if (opts.out === undefined) throw new FmnError('merge: required option --out not given');
      if (chosen.length < 2)
        throw new FmnError(`merge needs at least two --model folders, got ${chosen.length}`);
      const method = opts.method as string;
      const needs = mergeMethod(method).needs;
      if (!needs.maskFisher && !needs.fullFisher && chosen.some((m) => m.fisher)) {
        note(g, `warning: --fisher is not used by ${method}; ignored`);
      }
      if (!needs.gram && chosen.some((m) => m.gram))
        note(g, `warning: --gram is not used by ${method}; ignored`);
      const options = methodOptionsFromCli(method, opts, command, (m) => note(g, `warning: ${m}`));
      const t0 = performance.now();
      let spec: Omit<MergeCliOptions, 'out' | 'force'> = {
        method,
        models: chosen,
        base: opts.base as string | undefined,
        lambda: opts.lambda as number[] | undefined,
        options,
        dtype: opts.dtype as 'F32' | 'F16' | 'BF16' | undefined,
        allowFisherMismatch: opts.allowFisherMismatch === true,
      };
      let search: SearchReport | undefined;
      if (opts.search === true) {
        search = await searchCli(spec, opts, g);
        spec = withCoefficients(spec, search.kind, search.chosen.coefficients);
      } else if (opts.data !== undefined) {
        note(g, 'warning: --data is used by --search only; ignored');
      }
      const outDir = opts.out as string;
      const report = await runMerge({ ...spec, force: opts.force === true, out: outDir }, g);
      if (search) {
        // the search table goes into merge-report.json
        Object.assign(report, { search });
        await writeFileAtomic(join(outDir, 'merge-report.json'), JSON.stringify(report, null, 2) + '\n');
      }
      printReport(report, method, outDir, t0, opts.json === true);
    });
}

/** `fmn merge --search`: the search over the merge's coefficients, its scratch folder beside --out. */
async function searchCli(
  spec: Omit<MergeCliOptions, 'out' | 'force'>,
  opts: Record<string, unknown>,
  g: ReturnType<typeof globals>,
): Promise<SearchReport> {
  const data = (opts.data as string[] | undefined) ?? [];
  const out = resolve(opts.out as string);
  // before the search's work: the final merge would refuse an existing output
  if (opts.force !== true && (await stat(out).catch(() => undefined)))
    throw new FmnError('output folder already exists (use --force to replace it)', out);
  const r = await runSearch(
    {
      merge: spec,
      data: data.map((d) => ({ data: d })),
      holdout: opts.searchHoldout as number,
      seed: opts.searchSeed as number,
      samples: opts.searchSamples as number,
      backend: opts.backend as string | undefined,
      batchSize: 32,
      // an fmn temp: removed on a signal, and by the next run after a kill (core's recover-output)
      scratch: fmnTempPath(out, 'tmp'),
    },
    g,
  );
  const best = r.candidates[r.chosen.index];
  note(
    g,
    `search: ${r.kind} ${best.coefficients.map((v) => v.toFixed(3)).join(', ')} (held-out mean ${(100 * best.mean).toFixed(2)} over ${r.candidates.length} candidates)`,
  );
  return r;
}

function printReport(report: MergeReport, method: string, outDir: string, t0: number, json: boolean): void {
  const secs = (performance.now() - t0) / 1000;
  if (json) {
    out(JSON.stringify({ out: outDir, seconds: secs, ...report }));
    return;
  }
  out(
    `merged ${report.inputs.length} ${report.modelType} models with ${method}${report.mapping ? ` (${report.mapping} mapping)` : ''} in ${secs.toFixed(2)} s -> ${outDir}`,
  );
  for (const i of report.inputs) out(`  ${i.dir} -> ${outDir}/${i.output}`);
  const search = (report as { search?: SearchReport }).search;
  if (search) {
    out(
      `  search: ${search.kind} ${search.chosen.coefficients.map((v) => +v.toFixed(4)).join(', ')} chosen from ${search.candidates.length} candidates (held-out mean ${(100 * search.chosen.mean).toFixed(2)}; table in merge-report.json)`,
    );
  }
}

/** Options that --config replaces: the merge is the file's. */
const CONFIG_EXCLUDES = ['method', 'base', 'lambda', 'fisher', 'gram', 'search', 'data'];

/** `fmn merge --config FILE`: the merge a mergekit-style configuration describes (merge-config.ts). */
async function mergeFromConfig(
  file: string,
  withModels: boolean,
  opts: Record<string, unknown>,
  command: Command,
  g: ReturnType<typeof globals>,
): Promise<void> {
  const given = [
    ...(withModels ? ['--model'] : []),
    ...CONFIG_EXCLUDES.filter((k) => opts[k] !== undefined).map((k) => `--${k}`),
    ...methodFlags()
      .filter((f) => command.getOptionValueSource(attributeOf(f.flag)) === 'cli')
      .map((f) => f.flag),
  ];
  if (given.length > 0) {
    throw new FmnError(
      `--config describes the whole merge: ${given.join(', ')} cannot be combined with it (set it in the file)`,
      file,
    );
  }
  const plan = await readMergeConfig(file);
  for (const w of plan.warnings) note(g, `warning: ${w} (${plan.file})`);
  const outDir = (opts.out as string | undefined) ?? plan.out;
  if (!outDir) throw new FmnError('no output folder: give --out or "out" in the configuration', file);
  const run = configMerge(plan);
  if (!mergeMethodNames().includes(run.method)) {
    throw new FmnError(
      `merge_method ${plan.method} (fmn's ${run.method}) is not available in this build`,
      file,
    );
  }
  const t0 = performance.now();
  const report = await runMerge(
    {
      method: run.method,
      models: run.models,
      base: run.base,
      lambda: run.lambda,
      options: run.options,
      dtype: (opts.dtype as 'F32' | 'F16' | 'BF16' | undefined) ?? run.dtype,
      force: opts.force === true,
      out: outDir,
    },
    g,
  );
  printReport(report, `${plan.method} (mergekit configuration ${plan.file})`, outDir, t0, opts.json === true);
}
