import { basename, join } from 'node:path';
import type { Command } from 'commander';
import {
  FmnError,
  atomicDir,
  atomicFiles,
  checkOutputPath,
  encoderParams,
  modelFolderName,
  type ClassificationHead,
  type EncoderModel,
} from '@fmn/core';
import { globals, out } from '../context.js';
import { openModel, type OpenedModel } from '../pipeline.js';
import { modelDir } from '../model-path.js';
import { GRAPH_FILE, writeModelLayout } from './export-onnx-folder.js';

/** The encoder's own tensors (embeddings and layers, not the task head). */
function encoderTensors(m: EncoderModel) {
  const head = new Set<unknown>();
  if (m.head?.kind === 'classification') {
    for (const s of m.head.steps) {
      head.add(s.linear.weight);
      if (s.linear.bias) head.add(s.linear.bias);
    }
  }
  return encoderParams(m).filter((p) => !head.has(p));
}

/**
 * Checks that every model runs the same encoder as the first (as the output folders of one merge
 * do): same architecture and dimensions, and bit-identical encoder tensors.
 */
export function checkSameEncoder(models: readonly OpenedModel[]): void {
  const [first, ...rest] = models;
  const a = encoderTensors(first.model);
  for (const m of rest) {
    if (m.model.modelType !== first.model.modelType) {
      throw new FmnError(
        `cannot export together: a ${m.model.modelType} model with a ${first.model.modelType} model (${first.dir})`,
        m.dir,
      );
    }
    const da = JSON.stringify(first.model.dims);
    const db = JSON.stringify(m.model.dims);
    if (da !== db || m.model.activation !== first.model.activation) {
      throw new FmnError(`cannot export together: its dimensions differ from those of ${first.dir}`, m.dir);
    }
    const b = encoderTensors(m.model);
    if (a.length !== b.length)
      throw new FmnError(`cannot export together: its encoder has other tensors than ${first.dir}`, m.dir);
    for (let i = 0; i < a.length; i++) {
      const x = a[i].data;
      const y = b[i].data;
      let same = x.length === y.length;
      for (let k = 0; same && k < x.length; k++) same = x[k] === y[k];
      if (!same) {
        throw new FmnError(
          `cannot export together: its encoder differs from that of ${first.dir} (tensor ${b[i].name}); ` +
            'export-onnx takes models that share one encoder, such as the output folders of one `fmn merge`',
          m.dir,
        );
      }
    }
  }
}

/** Output names: the folder names, made valid and unique. */
export function headNames(dirs: readonly string[]): string[] {
  const used = new Set<string>();
  return dirs.map((d) => {
    let name = modelFolderName(d).replace(/[^A-Za-z0-9_.-]+/g, '_');
    if (!/^[A-Za-z_]/.test(name)) name = `task_${name}`;
    if (['input_ids', 'attention_mask', 'token_type_ids'].includes(name)) name = `${name}_logits`;
    let unique = name;
    for (let k = 2; used.has(unique); k++) unique = `${name}_${k}`;
    used.add(unique);
    return unique;
  });
}

/** Whether `--out` names a single .onnx file (else it is a transformers.js folder). */
export const isOnnxFile = (out: string): boolean => out.toLowerCase().endsWith('.onnx');

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx')
    .description(
      'Export models as ONNX (opset 20; inputs input_ids, attention_mask and, when the model has them, ' +
        'token_type_ids, int64 [batch_size, sequence_length]). ' +
        '--out FOLDER (not ending in .onnx): the transformers.js / Optimum layout, loadable with ' +
        "pipeline('text-classification', FOLDER): config.json, tokenizer.json, tokenizer_config.json, " +
        'special_tokens_map.json and onnx/model.onnx with output logits (weights inside it below 2 GB, else in ' +
        'onnx/model.onnx_data); with several --model, one such folder per task, FOLDER/<task>/. ' +
        '--out FILE.onnx: one graph for an encoder shared by several task heads (e.g. the output folders of one ' +
        '`fmn merge`) with one logits output per task, named after its folder; the weights go to FILE.onnx_data.',
    )
    .requiredOption(
      '--model <dir>',
      'a model folder; repeat for every task (with --out FILE.onnx the encoders must be identical, as after a merge)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), modelDir(v)],
    )
    .requiredOption(
      '--out <path>',
      'output folder (transformers.js layout), or a .onnx file (one multi-head graph)',
    )
    .option('--force', 'replace an existing --out')
    .action(async (opts: { model: string[]; out: string; force?: boolean }, command: Command) => {
      const g = globals(command);
      const file = isOnnxFile(opts.out);
      await checkOutputPath(
        opts.out,
        opts.model.map((dir, i) => ({ path: dir, what: `input model ${i + 1}` })),
        { kind: file ? 'file' : 'folder', force: opts.force === true },
      );
      const models: OpenedModel[] = [];
      for (const dir of opts.model) models.push(await openModel(dir, g));
      const names = headNames(opts.model);
      const labels = (i: number) => `${models[i].numLabels} label${models[i].numLabels === 1 ? '' : 's'}`;
      if (!file) {
        const external: string[] = [];
        await atomicDir(
          opts.out,
          async (tmp) => {
            for (const [i, m] of models.entries()) {
              const dir = models.length === 1 ? tmp : join(tmp, names[i]);
              if ((await writeModelLayout(m, dir)).externalData) external.push(names[i]);
            }
          },
          { force: opts.force === true },
        );
        const what =
          models.length === 1
            ? `${models[0].model.modelType} model (${labels(0)})`
            : `${models.length} models (${names.map((n, i) => `${n}/: ${labels(i)}`).join(', ')})`;
        out(
          `exported ${what} for transformers.js -> ${opts.out}` +
            (external.length > 0 ? ` (weights in onnx/${GRAPH_FILE}_data: ${external.join(', ')})` : ''),
        );
        return;
      }
      checkSameEncoder(models);
      const { exportOnnx } = await import('@fmn/onnx');
      // the graph and its weights file are replaced as a pair (the graph last)
      await atomicFiles(
        [opts.out, `${opts.out}_data`],
        async (tmp) => {
          await exportOnnx(models[0].model, join(tmp, basename(opts.out)), {
            heads: models.map((m, i) => ({ name: names[i], head: m.model.head as ClassificationHead })),
            weights: 'external',
          });
        },
        { force: opts.force === true },
      );
      out(
        `exported ${models[0].model.modelType} encoder with ${models.length} head(s) (${names
          .map((n, i) => `${n}: ${labels(i)}`)
          .join(', ')}) -> ${opts.out} (+ ${basename(opts.out)}_data)`,
      );
    });
}
