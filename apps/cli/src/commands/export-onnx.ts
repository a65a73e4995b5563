import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { FmnError, encoderParams, modelFolderName, type ClassificationHead, type EncoderModel } from '@fmn/core';
import { globals, out } from '../context.js';
import { openModel, type OpenedModel } from '../pipeline.js';
import { modelDir } from '../model-path.js';

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

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx')
    .description(
      'Export an encoder shared by several task heads (e.g. the output folders of one `fmn merge`) as one ONNX ' +
        'inference graph (opset 17; inputs input_ids, attention_mask and, when the model has them, token_type_ids) ' +
        'with one logits output per task, named after its folder; the weights go to <out>_data beside it.',
    )
    .requiredOption(
      '--model <dir>',
      'a model folder; repeat for every task head (the encoders must be identical, as after a merge)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), modelDir(v)],
    )
    .requiredOption('--out <file>', 'output .onnx file')
    .action(async (opts: { model: string[]; out: string }, command: Command) => {
      const g = globals(command);
      const models: OpenedModel[] = [];
      for (const dir of opts.model) models.push(await openModel(dir, g));
      checkSameEncoder(models);
      const names = headNames(opts.model);
      const { exportOnnx } = await import('@fmn/onnx');
      await mkdir(dirname(resolve(opts.out)), { recursive: true });
      const r = await exportOnnx(models[0].model, opts.out, {
        heads: models.map((m, i) => ({ name: names[i], head: m.model.head as ClassificationHead })),
      });
      out(
        `exported ${models[0].model.modelType} encoder with ${models.length} head(s) (${names
          .map((n, i) => `${n}: ${models[i].numLabels} label${models[i].numLabels === 1 ? '' : 's'}`)
          .join(', ')}) -> ${r.model} (+ ${basename(r.data)})`,
      );
    });
}
