/**
 * What `fmn fisher` and `fmn gram` share: both go over a sample of a dataset with a model and write
 * one safetensors file of sums. Their common settings, the options that set them, and the checks
 * before any work (required options, the shard, --out never an input nor replaced without --force).
 */
import type { Command } from 'commander';
import { checkOutputPath, FmnError } from '@fmn/core';
import { modelDir } from './model-path.js';
import { parseIntOption, parseSamples } from './options.js';
import { backendOption } from './pipeline.js';
import { parseShard, type Shard } from './shard.js';

export interface SampledDataSettings {
  model: string;
  data: string;
  task?: string;
  split?: string;
  backend?: string;
  samples: number | 'all';
  batchSize: number;
  seed: number;
  maxLength?: number;
  shard?: Shard;
  /** tokenizer folder (default: the model's) */
  tokenizer?: string;
}

/** --model, --data, --task, --split, --backend, --samples, --batch-size, --seed (in this order). */
export function addSampleOptions(cmd: Command, help: { data: string; task: string }): Command {
  return cmd
    .option(
      '--model <dir>',
      'fine-tuned HuggingFace model folder or hub-cache org/name[@revision] (required)',
      modelDir,
    )
    .option('--data <file>', help.data)
    .option('--task <name>', help.task)
    .option('--split <name>', 'for a task folder: the split to read', 'train')
    .addOption(backendOption())
    .option(
      '--samples <n|all>',
      'examples to draw with the seeded RNG, or "all" (every example, file order)',
      parseSamples,
      128 as number | 'all',
    )
    .option('--batch-size <n>', 'examples per batch', (v) => parseIntOption('--batch-size', v, 1), 32)
    .option('--seed <n>', 'seed of the example draw', (v) => parseIntOption('--seed', v), 0);
}

/** --max-length and --tokenizer. */
export function addTokenOptions(cmd: Command, tokenizerHelp: string): Command {
  return cmd
    .option('--max-length <n>', "truncate inputs to n tokens (default: min(128, the model's limit))", (v) =>
      parseIntOption('--max-length', v, 2),
    )
    .option('--tokenizer <dir>', tokenizerHelp, modelDir);
}

/**
 * The settings the options above give, after the checks that come before any work: the required
 * options, the shard, and --out (never an input; an existing file only with --force).
 */
export async function sampledDataSettings(
  command: string,
  opts: Record<string, unknown>,
): Promise<SampledDataSettings> {
  for (const k of ['model', 'data', 'out'] as const) {
    if (!opts[k]) throw new FmnError(`${command}: required option --${k} not given`);
  }
  const shard = opts.shard ? parseShard(opts.shard as string) : undefined;
  await checkOutputPath(
    opts.out as string,
    [
      { path: opts.model as string, what: 'the model' },
      { path: opts.data as string, what: 'the data' },
      ...(opts.tokenizer ? [{ path: opts.tokenizer as string, what: 'the tokenizer' }] : []),
    ],
    { kind: 'file', force: opts.force === true },
  );
  return {
    model: opts.model as string,
    data: opts.data as string,
    task: opts.task as string | undefined,
    split: opts.split as string,
    backend: opts.backend as string | undefined,
    samples: opts.samples as number | 'all',
    batchSize: opts.batchSize as number,
    seed: opts.seed as number,
    maxLength: opts.maxLength as number | undefined,
    tokenizer: opts.tokenizer as string | undefined,
    shard,
  };
}
