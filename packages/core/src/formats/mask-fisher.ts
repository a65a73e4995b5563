/**
 * The mask Fisher file (METHOD.md section 3), written by `fmn fisher`: F32 tensors `head` [L, H]
 * and `neuron` [L, I] (sums over examples, finite and non-negative); metadata "format" =
 * fmn-mask-fisher, "head_size", "examples", the model record (model, model_type, weights_sha256,
 * model_sha256) and the settings it was computed with.
 */
import { FmnError } from '../errors.js';
import type { MaskFisher } from '../fisher.js';
import { SafetensorsFile, writeSafetensors } from '../safetensors.js';
import { fromFloat32 } from '../tensor.js';
import { readModelRecord, type ModelRecord } from './model-record.js';
import { checkF32, checkFiniteNonNegative, checkFormatName, metadataCount, sumFloat32 } from './validate.js';

export const MASK_FISHER_FORMAT = 'fmn-mask-fisher';

/** Writes a mask Fisher as safetensors: float32 `head` [L, H], `neuron` [L, I], with metadata. */
export async function writeMaskFisher(
  path: string,
  fisher: MaskFisher,
  metadata: Record<string, string> = {},
): Promise<void> {
  const { layers, heads, headSize, intermediate } = fisher.layout;
  await writeSafetensors(
    path,
    [
      { name: 'head', dtype: 'F32', shape: [layers, heads], data: fromFloat32(fisher.head, 'F32') },
      {
        name: 'neuron',
        dtype: 'F32',
        shape: [layers, intermediate],
        data: fromFloat32(fisher.neuron, 'F32'),
      },
    ],
    // the layout keys come last: they describe the tensors and must not be overridden
    {
      ...metadata,
      format: MASK_FISHER_FORMAT,
      head_size: String(headSize),
      examples: String(fisher.examples),
    },
  );
}

/** Reads and validates a mask Fisher file (format name, F32 2-D tensors of one L, finite non-negative values). */
export async function readMaskFisher(
  path: string,
): Promise<MaskFisher & { metadata: Readonly<Record<string, string>>; record: ModelRecord }> {
  const f = await SafetensorsFile.open(path);
  try {
    checkFormatName(f, MASK_FISHER_FORMAT, 'mask Fisher');
    for (const name of ['head', 'neuron']) {
      if (!f.has(name)) throw new FmnError(`not a mask Fisher file: no "${name}" tensor`, path);
      if (f.info(name).shape.length !== 2)
        throw new FmnError(`mask Fisher tensor "${name}" must be 2-D`, path);
      checkF32(f, name, 'mask Fisher');
    }
    const [layers, heads] = f.info('head').shape;
    const [nl, intermediate] = f.info('neuron').shape;
    if (nl !== layers)
      throw new FmnError(`mask Fisher "head" has ${layers} layers but "neuron" has ${nl}`, path);
    const head = await f.readFloat32('head');
    const neuron = await f.readFloat32('neuron');
    checkFiniteNonNegative(head, 'head', path);
    checkFiniteNonNegative(neuron, 'neuron', path);
    return {
      layout: {
        layers,
        heads,
        headSize: metadataCount(f, 'head_size', 'mask Fisher') ?? 0,
        intermediate,
      },
      head,
      neuron,
      examples: metadataCount(f, 'examples', 'mask Fisher') ?? 0,
      metadata: f.metadata,
      record: readModelRecord(f.metadata),
    };
  } finally {
    await f.close();
  }
}

/** The sum of mask Fisher shards (one layout; named by their files in errors); examples add up. */
export function combineMaskFishers(parts: readonly { path: string; fisher: MaskFisher }[]): MaskFisher {
  if (parts.length === 0) throw new FmnError('nothing to combine: no mask Fisher files given');
  const L = parts[0].fisher.layout;
  for (const p of parts) {
    const l = p.fisher.layout;
    if (l.layers !== L.layers || l.heads !== L.heads || l.intermediate !== L.intermediate) {
      throw new FmnError(
        `cannot combine: layout ${l.layers}x${l.heads}/${l.intermediate} differs from ${parts[0].path}`,
        p.path,
      );
    }
  }
  return {
    layout: L,
    head: sumFloat32(parts.map((p) => p.fisher.head)),
    neuron: sumFloat32(parts.map((p) => p.fisher.neuron)),
    examples: parts.reduce((a, p) => a + p.fisher.examples, 0),
  };
}
