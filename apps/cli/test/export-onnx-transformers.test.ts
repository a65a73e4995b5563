/**
 * `fmn export-onnx --out FOLDER` writes what transformers.js loads: these tests load the exports
 * with @huggingface/transformers (from the local folder only) through pipeline('text-classification')
 * and AutoModelForSequenceClassification, and compare with fmn's own forward pass (`fmn predict`
 * on the tfjs backend, another implementation than the ONNX graph).
 */
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { atomicDir } from '@fmn/core';
import { writeModelLayout } from '../src/commands/export-onnx-folder.js';
import { openModel } from '../src/pipeline.js';
import { fmn, maxRelDiff, ok, tempDir } from './helpers.js';

type Transformers = typeof import('@huggingface/transformers');
let tjs: Transformers | undefined;
let unavailable = '';
try {
  tjs = await import('@huggingface/transformers');
} catch (e) {
  unavailable = `: skipped, @huggingface/transformers does not load here (${(e as Error).message})`;
}

const fx = inject('fx');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  if (tjs) {
    // local folders only: never the hub, no cache
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    tjs.env.useFSCache = false;
    tjs.env.useBrowserCache = false;
  }
});
afterAll(() => cleanup());

const SENTENCES = ['good movie', 'the film is very boring', 'not fun', 'cat dog great awful'];
const PAIRS: [string, string][] = [
  ['good movie', 'bad film'],
  ['the cat is fun', 'the dog is not'],
  ['very great', 'awful boring movie'],
];

/** a classification row has logits and probabilities, a regression row a score */
interface FmnRow {
  logits?: number[];
  probabilities?: number[];
  score?: number;
}

const logitsOf = (r: FmnRow): number[] => r.logits ?? [r.score!];

/** fmn's own predictions (tfjs backend) for sentences or sentence pairs. */
async function fmnPredict(model: string, inputs: readonly (string | [string, string])[]): Promise<FmnRow[]> {
  const args = ['predict', '--model', model, '--backend', 'tfjs', '--json'];
  for (const x of inputs) {
    if (typeof x === 'string') args.push('--text', x);
    else args.push('--text', x[0], '--text-pair', x[1]);
  }
  return (await ok(args))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as FmnRow);
}

/** transformers.js loads models by name under env.localModelPath. */
function local(folder: string): string {
  tjs!.env.localModelPath = `${dirname(folder)}/`;
  return basename(folder);
}

async function exportFolder(models: string[], name: string): Promise<string> {
  const out = join(dir, name);
  await ok(['export-onnx', ...models.flatMap((m) => ['--model', m]), '--out', out]);
  return out;
}

/** AutoModelForSequenceClassification logits, one row per input. */
async function tjsLogits(
  folder: string,
  inputs: readonly (string | [string, string])[],
): Promise<number[][]> {
  const id = local(folder);
  const tokenizer = await tjs!.AutoTokenizer.from_pretrained(id);
  const model = await tjs!.AutoModelForSequenceClassification.from_pretrained(id);
  try {
    const rows: number[][] = [];
    for (const x of inputs) {
      const enc = typeof x === 'string' ? tokenizer(x) : tokenizer(x[0], { text_pair: x[1] });
      const out = (await model(enc)) as { logits: { dims: number[]; tolist(): number[][] } };
      expect(out.logits.dims).toEqual([1, out.logits.dims[1]]);
      rows.push(out.logits.tolist()[0]);
    }
    return rows;
  } finally {
    await model.dispose();
  }
}

function expectRowsClose(got: number[][], want: number[][], what: string): void {
  expect(got.length).toBe(want.length);
  for (const [i, w] of want.entries()) expect(maxRelDiff(got[i], w), `${what} ${i}`).toBeLessThan(1e-5);
}

describe(`transformers.js loads fmn export-onnx --out FOLDER${unavailable}`, () => {
  it.skipIf(!tjs)(
    "single sentence: pipeline('text-classification') scores and logits equal fmn predict",
    async () => {
      const model = join(fx, 'bert', 'two-labels');
      const folder = await exportFolder([model], 'tjs-two');
      const want = await fmnPredict(model, SENTENCES);

      // the files transformers.js fetches, here and in a browser (wasm): the fp32 graph, no data file
      expect(await tjs!.ModelRegistry.get_pipeline_files('text-classification', local(folder))).toEqual([
        'config.json',
        'onnx/model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      expect(await tjs!.ModelRegistry.get_model_files(local(folder), { device: 'wasm' })).toEqual([
        'config.json',
        'onnx/model.onnx',
      ]);
      const classify = await tjs!.pipeline('text-classification', local(folder));
      try {
        for (const [i, s] of SENTENCES.entries()) {
          const scores = (await classify(s, { top_k: null })) as { label: string; score: number }[];
          // labels by name from config.json id2label, scores the softmax of the logits
          const byLabel = Object.fromEntries(scores.map((r) => [r.label, r.score]));
          expect(Object.keys(byLabel).sort()).toEqual(['negative', 'positive']);
          expect(maxRelDiff([byLabel.negative, byLabel.positive], want[i].probabilities!), s).toBeLessThan(
            1e-5,
          );
        }
      } finally {
        await classify.dispose();
      }
      expectRowsClose(await tjsLogits(folder, SENTENCES), want.map(logitsOf), 'logits');
    },
  );

  for (const family of ['bert', 'roberta'] as const) {
    it.skipIf(!tjs)(
      `sentence pair (${family}, 3 labels): AutoModelForSequenceClassification logits equal fmn predict`,
      async () => {
        const model = join(fx, family, 'three-labels');
        const folder = await exportFolder([model], `tjs-pair-${family}`);
        const want = await fmnPredict(model, PAIRS);
        expectRowsClose(await tjsLogits(folder, PAIRS), want.map(logitsOf), `${family} pair logits`);
      },
    );
  }

  it.skipIf(!tjs)('several models: one loadable folder per task, FOLDER/<task>/', async () => {
    const two = join(fx, 'bert', 'two-labels');
    const reg = join(fx, 'bert', 'regression');
    const folder = await exportFolder([two, reg], 'tjs-multi');
    expect((await readdir(folder)).sort()).toEqual(['regression', 'two-labels']);
    for (const [task, model] of [
      ['two-labels', two],
      ['regression', reg],
    ] as const) {
      const want = await fmnPredict(model, PAIRS);
      const got = await tjsLogits(join(folder, task), PAIRS);
      // a regression head predicts {"score"}: its single logit
      expectRowsClose(got, want.map(logitsOf), task);
    }
  });

  it.skipIf(!tjs)(
    'a model folder with vocab.txt only: tokenizer.json, tokenizer_config.json and special_tokens_map.json are built',
    async () => {
      const src = join(fx, 'bert', 'two-labels');
      const bare = join(dir, 'vocab-only');
      await mkdir(bare);
      for (const f of ['config.json', 'model.safetensors', 'vocab.txt'])
        await copyFile(join(src, f), join(bare, f));
      const folder = await exportFolder([bare], 'tjs-vocab-only');
      const files = await readdir(folder);
      for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
        expect(files).toContain(f);
      expect(JSON.parse(await readFile(join(folder, 'tokenizer_config.json'), 'utf8'))).toMatchObject({
        tokenizer_class: 'BertTokenizer',
        cls_token: '[CLS]',
        sep_token: '[SEP]',
      });
      const want = await fmnPredict(src, PAIRS);
      expectRowsClose(await tjsLogits(folder, PAIRS), want.map(logitsOf), 'built tokenizer');
    },
  );

  it.skipIf(!tjs)(
    'weights above the inline limit go to onnx/model.onnx_data, declared in config.json, and load',
    async () => {
      const model = join(fx, 'bert', 'two-labels');
      const folder = join(dir, 'tjs-external');
      // the 2 GB limit, lowered to 0 bytes: the same layout a > 2 GB model gets
      await atomicDir(folder, async (tmp) => {
        expect(await writeModelLayout(await openModel(model), tmp, { maxInlineBytes: 0 })).toEqual({
          externalData: true,
        });
      });
      expect((await readdir(join(folder, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']);
      const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(config['transformers.js_config']).toEqual({
        dtype: 'fp32',
        use_external_data_format: { 'model.onnx': 1 },
      });
      // transformers.js fetches the data file too (in a browser it hands it to onnxruntime-web)
      expect(await tjs!.ModelRegistry.get_model_files(local(folder), { device: 'wasm' })).toEqual([
        'config.json',
        'onnx/model.onnx',
        'onnx/model.onnx_data',
      ]);
      const want = await fmnPredict(model, SENTENCES);
      expectRowsClose(await tjsLogits(folder, SENTENCES), want.map(logitsOf), 'external data');
    },
  );

  it('refuses a model folder without any tokenizer files, naming it', async () => {
    const src = join(fx, 'bert', 'two-labels');
    const bare = join(dir, 'no-tokenizer');
    await mkdir(bare);
    for (const f of ['config.json', 'model.safetensors']) await copyFile(join(src, f), join(bare, f));
    const r = await fmn(['export-onnx', '--model', bare, '--out', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bare}: has no tokenizer.json and no vocabulary files`);
    await expect(readdir(join(dir, 'never'))).rejects.toThrow(/ENOENT/);
    // nor a temp folder: a failed export leaves nothing behind
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });
});
