/**
 * The transformers.js / Optimum layout of an exported model, the folder
 * `pipeline('text-classification', folder)` and `AutoModelForSequenceClassification.from_pretrained`
 * load:
 *
 *   config.json                the model's own, plus "transformers.js_config" (dtype fp32, and
 *                              use_external_data_format when the weights are outside the graph)
 *   tokenizer.json             copied, or built from the vocabulary files
 *   tokenizer_config.json      copied, or derived from the model type and special tokens
 *   special_tokens_map.json    copied, or derived likewise
 *   (vocab.txt, vocab.json, merges.txt, added_tokens.json: copied when present)
 *   onnx/model.onnx            the inference graph, output `logits`; weights inside it when they fit
 *                              in one protobuf (2 GB), else in onnx/model.onnx_data beside it
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FmnError,
  tokenizerFileNames,
  readJsonFile,
  regularFileSize,
  writeFileAtomic,
  type HfConfig,
} from '@fmn/core';
import {
  BYTE_LEVEL_BPE_CONVENTIONS,
  WORDPIECE_CONVENTIONS,
  buildTokenizerJson,
  registeredTokenizerConventions,
  specialStrings,
} from '@fmn/data';
import type { OpenedModel } from '../pipeline.js';

type Json = Record<string, unknown>;

/** The graph's file name inside `onnx/` (transformers.js loads `onnx/model.onnx` for dtype fp32). */
export const GRAPH_FILE = 'model.onnx';

export interface LayoutOptions {
  /** weights up to this many bytes stay inside model.onnx (default: @fmn/onnx's 2 GB limit) */
  readonly maxInlineBytes?: number;
}

export interface LayoutResult {
  /** whether the weights went to onnx/model.onnx_data */
  readonly externalData: boolean;
}

const TOKENIZER_CLASS: Record<string, string> = {
  bert: 'BertTokenizer',
  distilbert: 'DistilBertTokenizer',
  electra: 'ElectraTokenizer',
  roberta: 'RobertaTokenizer',
};

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

async function readIfPresent(path: string, what: string): Promise<Json | undefined> {
  return (await regularFileSize(path)) === undefined ? undefined : readJsonFile<Json>(path, what);
}

/** config.json with the transformers.js settings for this export. */
export function transformersJsConfig(config: HfConfig, externalData: boolean): HfConfig {
  const own = config['transformers.js_config'];
  const tjs: Json = { ...(own && typeof own === 'object' && !Array.isArray(own) ? (own as Json) : {}) };
  tjs.dtype = 'fp32';
  if (externalData) tjs.use_external_data_format = { [GRAPH_FILE]: 1 };
  else delete tjs.use_external_data_format;
  return { ...config, 'transformers.js_config': tjs };
}

/** Copies the model's tokenizer files into `dir` and writes the three transformers.js needs when missing. */
async function writeTokenizerFiles(m: OpenedModel, dir: string): Promise<void> {
  for (const f of tokenizerFileNames()) {
    if ((await regularFileSize(join(m.dir, f))) !== undefined) await copyFile(join(m.dir, f), join(dir, f));
  }
  if ((await regularFileSize(join(dir, 'tokenizer.json'))) === undefined) {
    const built = await buildTokenizerJson(m.dir, m.config);
    if (!built) {
      throw new FmnError(
        'has no tokenizer.json and no vocabulary files (vocab.txt, or vocab.json + merges.txt) to build one from; ' +
          'transformers.js needs a tokenizer',
        m.dir,
      );
    }
    await writeFileAtomic(join(dir, 'tokenizer.json'), json(built));
  }
  const modelType = typeof m.config.model_type === 'string' ? m.config.model_type : '';
  const conventions =
    registeredTokenizerConventions(m.config) ??
    ((await regularFileSize(join(m.dir, 'vocab.json'))) !== undefined
      ? BYTE_LEVEL_BPE_CONVENTIONS
      : WORDPIECE_CONVENTIONS);
  const roberta = conventions.template === 'roberta';
  const tokConfig = (await readIfPresent(join(dir, 'tokenizer_config.json'), 'tokenizer config')) ?? {};
  const specialMap = (await readIfPresent(join(dir, 'special_tokens_map.json'), 'special tokens map')) ?? {};
  const s = specialStrings(conventions.specialTokens, tokConfig, specialMap);
  const special: Json = {
    ...(roberta ? { bos_token: s.cls, eos_token: s.sep } : {}),
    cls_token: s.cls,
    sep_token: s.sep,
    pad_token: s.pad,
    unk_token: s.unk,
    mask_token: s.mask,
  };
  if ((await regularFileSize(join(dir, 'special_tokens_map.json'))) === undefined) {
    await writeFileAtomic(join(dir, 'special_tokens_map.json'), json(special));
  }
  if ((await regularFileSize(join(dir, 'tokenizer_config.json'))) === undefined) {
    const positions = m.config.max_position_embeddings;
    const maxLength = typeof positions === 'number' ? (roberta ? positions - 2 : positions) : undefined;
    await writeFileAtomic(
      join(dir, 'tokenizer_config.json'),
      json({
        ...(TOKENIZER_CLASS[modelType] ? { tokenizer_class: TOKENIZER_CLASS[modelType] } : {}),
        ...(maxLength !== undefined ? { model_max_length: maxLength } : {}),
        ...special,
      }),
    );
  }
}

/** Writes the layout of one model into `dir` (an empty folder, e.g. atomicDir's temp folder). */
export async function writeModelLayout(
  m: OpenedModel,
  dir: string,
  options: LayoutOptions = {},
): Promise<LayoutResult> {
  const { exportOnnx } = await import('@fmn/onnx');
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const r = await exportOnnx(m.model, join(dir, 'onnx', GRAPH_FILE), {
    weights: 'auto',
    maxInlineBytes: options.maxInlineBytes,
  });
  const externalData = r.data !== undefined;
  await writeFileAtomic(join(dir, 'config.json'), json(transformersJsConfig(m.config, externalData)));
  await writeTokenizerFiles(m, dir);
  return { externalData };
}
