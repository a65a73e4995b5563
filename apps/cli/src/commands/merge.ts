import { Command, Option } from 'commander';
import { join } from 'node:path';
import { FmnError, readJsonFile, type HfConfig } from '@fmn/core';
import { ensureTokenizerJson } from '@fmn/data';
import { MERGE_METHODS, merge, type MergeMethod, type MergeModelInput, type MergeReport } from '@fmn/merge';
import { globals, out } from '../context.js';
import { note, progressBar, type ProgressOptions } from '../progress.js';
import { parseIntOption, parseNumber } from '../options.js';
import { modelDir } from '../model-path.js';

export interface MergeCliOptions {
  method: MergeMethod;
  models: { dir: string; fisher?: string }[];
  base?: string;
  mapping?: 'paper' | 'block';
  lambda?: number[];
  tiesK?: number;
  dareP?: number;
  dareSeed?: number;
  dareTies?: boolean;
  dtype?: 'F32' | 'F16' | 'BF16';
  force?: boolean;
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
  if (o.mapping && o.method !== 'fisher-nodes') {
    note(progress, `warning: --mapping applies to fisher-nodes only; ignored for ${o.method}`);
  }
  const models: MergeModelInput[] = o.models.map((m, j) => ({
    dir: m.dir,
    fisher: m.fisher,
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
      mapping: o.method === 'fisher-nodes' ? (o.mapping ?? 'paper') : undefined,
      out: o.out,
      force: o.force,
      ties: o.tiesK !== undefined ? { k: o.tiesK } : undefined,
      dare: { p: o.dareP, seed: o.dareSeed, ties: o.dareTies },
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
  let models: { dir: string; fisher?: string }[] = [];
  const cmd = program
    .command('merge')
    .description(
      'Merge fine-tuned checkpoints of one architecture (docs/method.md §5). Every input keeps its own ' +
        'classification head: the output folder gets one HuggingFace model folder per input plus merge-report.json.',
    )
    .addOption(
      new Option('--method <method>', 'merge method').choices([...MERGE_METHODS]).makeOptionMandatory(),
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
      'the Fisher file of the preceding --model: a mask Fisher for fisher-nodes, a full Fisher (fmn fisher --full) for fisher',
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
    .option('--base <dir>', 'the pre-trained base model (needed by task-arithmetic, ties and dare)', modelDir)
    .addOption(
      new Option(
        '--mapping <mapping>',
        'fisher-nodes: how mask Fisher maps onto tensors (docs/method.md §5.1 paper, §5.2 block; default paper)',
      ).choices(['paper', 'block']),
    )
    .option(
      '--lambda <x...>',
      'coefficients: one per model (lambda_j), or one value for all; for task-arithmetic, ties and dare a single value is the scale of the summed task vectors',
      (v: string, prev: number[] | undefined) => [...(prev ?? []), parseNumber('--lambda', v)],
    )
    .option(
      '--ties-k <percent>',
      'ties (and dare --dare-ties): keep the top k% magnitudes of each task vector',
      (v) => parseNumber('--ties-k', v),
      20,
    )
    .option(
      '--dare-p <p>',
      'dare: drop probability of each task-vector entry',
      (v) => parseNumber('--dare-p', v),
      0.9,
    )
    .option('--dare-seed <n>', 'dare: random seed', (v) => parseIntOption('--dare-seed', v), 0)
    .option('--dare-ties', 'dare: combine the rescaled task vectors with TIES instead of task arithmetic')
    .addOption(
      new Option(
        '--dtype <dtype>',
        "write floating-point tensors in this dtype (default: each input tensor's own)",
      ).choices(['F32', 'F16', 'BF16']),
    )
    .option('--force', 'replace the output folder if it exists')
    .requiredOption('--out <dir>', 'output folder')
    .option('--json', 'print one JSON object: out, seconds and the merge report (method, inputs, lambdas, shares, ...)')
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const g = globals(command);
      const chosen = models;
      models = [];
      if (chosen.length < 2)
        throw new FmnError(`merge needs at least two --model folders, got ${chosen.length}`);
      const method = opts.method as MergeMethod;
      if (method !== 'fisher-nodes' && method !== 'fisher') {
        const withFisher = chosen.find((m) => m.fisher);
        if (withFisher) note(g, `warning: --fisher is not used by ${method}; ignored`);
      }
      const t0 = performance.now();
      const report = await runMerge(
        {
          method,
          models: chosen,
          base: opts.base as string | undefined,
          mapping: opts.mapping as 'paper' | 'block' | undefined,
          lambda: opts.lambda as number[] | undefined,
          tiesK: opts.tiesK as number,
          dareP: opts.dareP as number,
          dareSeed: opts.dareSeed as number,
          dareTies: opts.dareTies === true,
          dtype: opts.dtype as 'F32' | 'F16' | 'BF16' | undefined,
          force: opts.force === true,
          out: opts.out as string,
        },
        g,
      );
      const secs = (performance.now() - t0) / 1000;
      if (opts.json) {
        out(JSON.stringify({ out: opts.out, seconds: secs, ...report }));
        return;
      }
      out(
        `merged ${report.inputs.length} ${report.modelType} models with ${method}${report.mapping ? ` (${report.mapping} mapping)` : ''} in ${secs.toFixed(2)} s -> ${String(opts.out)}`,
      );
      for (const i of report.inputs) out(`  ${i.dir} -> ${String(opts.out)}/${i.output}`);
    });
  void cmd;
}
