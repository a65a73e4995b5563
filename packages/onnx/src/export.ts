/**
 * Export of an encoder with one or more classification heads as a standalone ONNX model (opset 20)
 * for onnxruntime-web / transformers.js users: inputs input_ids, attention_mask and (when the
 * model has token types) token_type_ids, all int64 [batch_size, sequence_length]; one output
 * [batch_size, numLabels] per head. By default the weights go to an external data file beside the
 * model (`<file>_data`, e.g. model.onnx_data, named relative to the graph), so no 2 GB protobuf
 * limit applies; `weights: 'inline'` keeps them inside the .onnx, `'auto'` does so when they fit.
 */
import { basename } from 'node:path';
import { FmnError, atomicFile, writeFileAtomic, type ClassificationHead, type EncoderModel } from '@fmn/core';
import { buildForward } from './encoder-graph.js';
import type { Value } from './graph.js';

export interface NamedHead {
  /** the output's name */
  readonly name: string;
  readonly head: ClassificationHead;
}

export interface ExportOptions {
  /** heads to export (default: the model's own classification head, output "logits") */
  readonly heads?: readonly NamedHead[];
  /**
   * Where the weights go: 'external' (default) to `<path>_data` beside the graph; 'inline' inside
   * the .onnx (refused above `maxInlineBytes`); 'auto' inline up to `maxInlineBytes`, else external.
   */
  readonly weights?: 'external' | 'inline' | 'auto';
  /** the most weight bytes kept inside the protobuf (default MAX_INLINE_WEIGHT_BYTES) */
  readonly maxInlineBytes?: number;
}

/** What exportOnnx wrote: the graph, and the external data file when the weights are outside it. */
export interface ExportResult {
  readonly model: string;
  readonly data?: string;
}

/**
 * A protobuf message is at most 2 GiB - 1 bytes: weights up to this size (2 GiB less 64 MiB for
 * the graph itself) fit inside the .onnx file.
 */
export const MAX_INLINE_WEIGHT_BYTES = 2 ** 31 - 2 ** 26;

const ALIGN = 64;

/** Writes `path` (.onnx) and, with external weights, `<path>_data`; returns the paths written. */
export async function exportOnnx(
  model: EncoderModel,
  path: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const heads: NamedHead[] = options.heads
    ? [...options.heads]
    : model.head?.kind === 'classification'
      ? [{ name: 'logits', head: model.head }]
      : [];
  if (heads.length === 0)
    throw new FmnError(
      'nothing to export: the model has no classification head and no heads were given',
      path,
    );
  const seen = new Set<string>();
  for (const h of heads) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(h.name))
      throw new FmnError(`head name ${JSON.stringify(h.name)} is not a valid output name`, path);
    if (['input_ids', 'attention_mask', 'token_type_ids'].includes(h.name) || seen.has(h.name)) {
      throw new FmnError(`head name ${JSON.stringify(h.name)} is used twice`, path);
    }
    seen.add(h.name);
    if (h.head.kind !== 'classification')
      throw new FmnError(`head ${h.name} is not a classification head`, path);
    const inDim = h.head.steps[0]?.linear.weight.shape[1];
    if (inDim !== model.dims.hidden) {
      throw new FmnError(
        `head ${h.name} expects inputs of width ${inDim}, the encoder's hidden size is ${model.dims.hidden}`,
        path,
      );
    }
  }
  const f = buildForward(
    model,
    'none',
    heads.map((h) => h.head),
  );
  f.logits.forEach((v, k) => f.graph.output(f.graph.identityNamed(v, heads[k].name)));

  const weightBytes = f.graph.initializers
    .filter((v) => v.init!.external)
    .reduce((n, v) => n + v.init!.data.byteLength, 0);
  const limit = options.maxInlineBytes ?? MAX_INLINE_WEIGHT_BYTES;
  const mode = options.weights ?? 'external';
  if (mode === 'inline' && weightBytes > limit) {
    throw new FmnError(
      `the weights (${weightBytes} bytes) do not fit inside one .onnx file (at most ${limit} bytes); export them as external data`,
      path,
    );
  }
  const docString = 'exported by fmn (@fmn/onnx)';
  if (mode === 'inline' || (mode === 'auto' && weightBytes <= limit)) {
    await writeFileAtomic(
      path,
      f.graph.toModel(() => undefined, docString),
    );
    return { model: path };
  }

  const dataPath = `${path}_data`;
  // the location is relative to the graph's folder (the ONNX external-data convention)
  const location = basename(dataPath);
  const placed = new Map<number, number>();
  const order: Value[] = [];
  let end = 0;
  const bytes = f.graph.toModel((v) => {
    let offset = placed.get(v.id);
    if (offset === undefined) {
      offset = Math.ceil(end / ALIGN) * ALIGN;
      placed.set(v.id, offset);
      order.push(v);
      end = offset + v.init!.data.byteLength;
    }
    return { location, offset };
  }, docString);
  await atomicFile(dataPath, async (fh) => {
    let pos = 0;
    for (const v of order) {
      const d = v.init!.data;
      const offset = placed.get(v.id)!;
      if (offset > pos) await fh.write(new Uint8Array(offset - pos));
      await fh.write(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      pos = offset + d.byteLength;
    }
  });
  await writeFileAtomic(path, bytes);
  return { model: path, data: dataPath };
}
