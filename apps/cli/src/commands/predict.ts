import type { Command } from 'commander';
import { FmnError, atomicFile, checkOutputPath } from '@fmn/core';
import { loadDataset, type Dataset } from '@fmn/data';
import { globals, out } from '../context.js';
import { openModel, predictLogits, prepareDataset, startBackend } from '../pipeline.js';
import { predictionTable, predictionsFromLogits } from '../predictions.js';
import { linesDataset, readStdin, textsDataset } from '../text-input.js';
import { modelDir } from '../model-path.js';
import { runtimeOptions } from './eval.js';

interface PredictOptions {
  model: string;
  data?: string;
  text?: string[];
  textPair?: string[];
  task?: string;
  split: string;
  backend?: string;
  batchSize: number;
  maxLength?: number;
  tokenizer?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function readInput(o: PredictOptions): Promise<Dataset> {
  if (o.text && o.data !== undefined) throw new FmnError('give --data or --text, not both');
  if (o.textPair && !o.text) throw new FmnError('--text-pair needs --text (one --text-pair per --text)');
  if (o.text) return textsDataset(o.text, o.textPair);
  if (o.data === undefined)
    throw new FmnError('give the texts: --data FILE, --data - (stdin) or --text "..."');
  if (o.data === '-') return linesDataset(await readStdin());
  return loadDataset(o.data, { task: o.task, split: o.split, columns: { label: null } });
}

/** --out must not be an input (the data, the model's files, the tokenizer's), and must not exist unless --force. */
async function checkOut(opts: PredictOptions, dataset: Dataset): Promise<void> {
  await checkOutputPath(
    opts.out as string,
    [
      ...dataset.files.map((f) => ({ path: f, what: 'the input data file' })),
      { path: opts.model, what: 'the model' },
      ...(opts.tokenizer ? [{ path: opts.tokenizer, what: 'the tokenizer' }] : []),
    ],
    { kind: 'file', force: opts.force === true },
  );
}

function exampleText(ex: Dataset['examples'][number]): string {
  if ('inputIds' in ex) return `(${ex.inputIds.length} token ids)`;
  return ex.b === undefined ? ex.a : `${ex.a} | ${ex.b}`;
}

export function registerPredict(program: Command): void {
  runtimeOptions(
    program
      .command('predict')
      .description(
        'Predict with a fine-tuned model; no labels needed. One row per example, in input order: ' +
          '{"label", "probabilities", "logits"} (label names from config.json id2label), ' +
          '{"score"} for a regression head, with "id" when the data has an id/idx/index column. ' +
          'A table on a terminal, JSON lines otherwise, with --json or into --out. ' +
          'Texts from --data FILE, --data - (stdin: one text per line) or --text; ' +
          'a sentence pair is "A<TAB>B" (in a line or a --text) or --text A --text-pair B.',
      )
      .requiredOption(
        '--model <dir>',
        'fine-tuned HuggingFace model folder, or org/name[@revision] from the hub cache',
        modelDir,
      )
      .option(
        '--data <file>',
        'a TSV/CSV/JSONL/Parquet file or a GLUE-style task folder (a label column is not needed), or - for plain text on stdin',
      )
      .option('--text <text>', 'a text to classify (repeatable); "A<TAB>B" for a sentence pair', collect)
      .option(
        '--text-pair <text>',
        'the second sentence of the --text at the same position (repeatable)',
        collect,
      ),
    'dev',
  )
    .option('--out <file>', 'write JSON lines to this file (atomically) instead of stdout')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'JSON lines on stdout even on a terminal; with --out, one JSON summary object')
    .action(async (opts: PredictOptions, command: Command) => {
      const g = globals(command);
      const m = await openModel(opts.model, g);
      const dataset = await readInput(opts);
      if (opts.out !== undefined) await checkOut(opts, dataset);
      const data = await prepareDataset(m, dataset, {
        maxLength: opts.maxLength,
        tokenizer: opts.tokenizer,
        labels: false,
      });
      const backend = await startBackend(opts.backend, g);
      const session = await backend.load(m.model);
      let logits: Float32Array;
      try {
        logits = await predictLogits(session, data, m.numLabels, opts.batchSize, { ...g, label: 'predict' });
      } finally {
        await session.dispose();
      }
      const examples = dataset.examples;
      const rows = predictionsFromLogits(
        logits,
        m.numLabels,
        m.config,
        examples.map((e) => e.id),
      );
      if (opts.out !== undefined) {
        await atomicFile(opts.out, async (fh) => {
          for (let i = 0; i < rows.length; i += 1000) {
            await fh.write(
              rows
                .slice(i, i + 1000)
                .map((r) => JSON.stringify(r))
                .join('\n') + '\n',
            );
          }
        });
        if (opts.json) {
          out(
            JSON.stringify({
              out: opts.out,
              examples: rows.length,
              labels: m.numLabels,
              backend: backend.name,
            }),
          );
        } else {
          out(
            `wrote the predictions of ${rows.length} examples (${m.numLabels} labels, ${backend.name}) -> ${opts.out}`,
          );
        }
        return;
      }
      if (opts.json || process.stdout.isTTY !== true) {
        for (let i = 0; i < rows.length; i += 1000) {
          process.stdout.write(
            rows
              .slice(i, i + 1000)
              .map((r) => JSON.stringify(r))
              .join('\n') + '\n',
          );
        }
        return;
      }
      const width = process.stdout.columns ?? 100;
      for (const line of predictionTable(rows, examples.map(exampleText), width)) out(line);
    });
}
