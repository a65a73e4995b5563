import { Command } from 'commander';
import { globals, out } from '../context.js';
import { parseIntOption } from '../options.js';
import {
  backendOption,
  openModel,
  predictLogits,
  prepareData,
  scoreLogits,
  startBackend,
  type EvalResult,
} from '../pipeline.js';
import type { ProgressOptions } from '../progress.js';
import { modelDir } from '../model-path.js';

export interface EvalSettings {
  model: string;
  data: string;
  task?: string;
  split?: string;
  backend?: string;
  batchSize?: number;
  maxLength?: number;
  /** tokenizer folder (default: the model's) */
  tokenizer?: string;
}

/** Evaluates a model on labelled data (docs/method.md §6). Shared by `eval` and `run`. */
export async function evaluateModel(
  s: EvalSettings,
  progress: ProgressOptions & { label?: string },
): Promise<EvalResult & { seconds: number; backend: string }> {
  const m = await openModel(s.model, progress);
  const data = await prepareData(m, {
    data: s.data,
    task: s.task,
    split: s.split ?? 'dev',
    maxLength: s.maxLength,
    tokenizer: s.tokenizer,
    labels: true,
  });
  const backend = await startBackend(s.backend, progress);
  const session = await backend.load(m.model);
  try {
    const t0 = performance.now();
    const logits = await predictLogits(session, data, m.numLabels, s.batchSize ?? 32, progress);
    const r = scoreLogits(data, logits, m.numLabels);
    return { ...r, seconds: (performance.now() - t0) / 1000, backend: backend.name };
  } finally {
    await session.dispose();
  }
}

function commonDataOptions(cmd: Command, split: string): Command {
  return runtimeOptions(
    cmd
      .requiredOption(
        '--model <dir>',
        'fine-tuned HuggingFace model folder, or org/name[@revision] from the hub cache',
        modelDir,
      )
      .requiredOption('--data <file>', 'a TSV/CSV/JSONL/Parquet file or a GLUE-style task folder'),
    split,
  );
}

/** The options of eval and predict besides the model and the data. */
export function runtimeOptions(cmd: Command, split: string): Command {
  return cmd
    .option(
      '--task <name>',
      'GLUE task preset for the data columns, labels and metrics (sst2, mrpc, mnli, stsb, ...)',
    )
    .option('--split <name>', 'for a task folder: the split to read', split)
    .option(
      '--tokenizer <dir>',
      "take the tokenizer from this folder or hub-cache org/name (e.g. the base model's); pre-tokenized data needs none",
      modelDir,
    )
    .addOption(backendOption())
    .option('--batch-size <n>', 'examples per batch', (v) => parseIntOption('--batch-size', v, 1), 32)
    .option('--max-length <n>', "truncate inputs to n tokens (default: min(128, the model's limit))", (v) =>
      parseIntOption('--max-length', v, 2),
    );
}

export function registerEval(program: Command): void {
  commonDataOptions(
    program
      .command('eval')
      .description(
        'Evaluate a model on labelled data: accuracy, F1, Matthews, Pearson, Spearman as the task calls for (docs/method.md §6).',
      ),
    'dev',
  )
    .option('--json', 'print one JSON object: the metrics by name, plus "examples"')
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const g = globals(command);
      const r = await evaluateModel(
        {
          model: opts.model as string,
          data: opts.data as string,
          task: opts.task as string | undefined,
          split: opts.split as string,
          backend: opts.backend as string | undefined,
          batchSize: opts.batchSize as number,
          maxLength: opts.maxLength as number | undefined,
          tokenizer: opts.tokenizer as string | undefined,
        },
        g,
      );
      if (opts.json) {
        out(JSON.stringify({ ...r.metrics, examples: r.examples }));
        return;
      }
      out(`${String(opts.model)} on ${String(opts.data)} (${r.examples} examples, ${r.backend}):`);
      for (const [k, v] of Object.entries(r.metrics)) out(`  ${k.padEnd(9)} ${(v as number).toFixed(4)}`);
    });
}
