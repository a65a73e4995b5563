import type { Command } from 'commander';
import { FmnError } from '@fmn/core';
import { globals, out } from '../context.js';
import { openModel, type OpenedModel } from '../pipeline.js';

type ExportFn = (models: unknown, outPath: string, options?: unknown) => Promise<unknown>;

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx')
    .description(
      'Export an encoder shared by several task heads (e.g. the output folders of one `fmn merge`) as one ONNX ' +
        'inference graph with one logits output per task, with its weights as external data beside it.',
    )
    .requiredOption(
      '--model <dir>',
      'a model folder; repeat for every task head (the encoders must be identical, as after a merge)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .requiredOption('--out <file>', 'output .onnx file')
    .action(async (opts: { model: string[]; out: string }, command: Command) => {
      const g = globals(command);
      const models: OpenedModel[] = [];
      for (const dir of opts.model) models.push(await openModel(dir, g));
      const ort = (await import('@fmn/backend-onnxruntime')) as unknown as Record<string, unknown>;
      const exportFn = ort.exportOnnx as ExportFn | undefined;
      if (typeof exportFn !== 'function') {
        throw new FmnError('ONNX export is not available: @fmn/backend-onnxruntime does not provide exportOnnx yet');
      }
      await exportFn(
        models.map((m) => ({ name: m.dir, model: m.model })),
        opts.out,
      );
      out(`exported ${models.length} task head(s) -> ${opts.out}`);
    });
}
