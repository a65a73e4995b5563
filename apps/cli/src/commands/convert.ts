import type { Command } from 'commander';
import { checkOutputPath, convertToSafetensors } from '@fmn/core';
import { out } from '../context.js';
import { modelDir } from '../model-path.js';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description(
      'Convert a model folder with PyTorch weights (pytorch_model.bin or its shards, read safely: no code in ' +
        'them is run) into one with model.safetensors: same tensor names, shapes and dtypes; config.json and ' +
        'the tokenizer files are copied.',
    )
    .argument('<model>', 'a model folder, or org/name[@revision] from the HuggingFace hub cache', modelDir)
    .requiredOption(
      '--out <dir>',
      'output folder (written atomically; never the model folder nor one holding it)',
    )
    .option('--force', 'replace an existing output folder')
    .action(async (model: string, opts: { out: string; force?: boolean }) => {
      await checkOutputPath(opts.out, [{ path: model, what: 'the model' }], {
        kind: 'folder',
        force: opts.force === true,
      });
      const r = await convertToSafetensors(model, opts.out, { force: opts.force === true });
      const size = r.bytes >= 1e6 ? `${(r.bytes / 1e6).toFixed(1)} MB` : `${(r.bytes / 1e3).toFixed(1)} kB`;
      out(
        `converted ${r.tensors} tensors (${size}) -> ${opts.out}/model.safetensors; copied ${r.copied.join(', ') || 'nothing else'}`,
      );
    });
}
