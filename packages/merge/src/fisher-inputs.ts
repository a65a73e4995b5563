/**
 * The Fisher inputs of a merge: mask Fisher files read and checked against their models' layouts,
 * full Fisher files opened and checked to hold every merged parameter in its shape; a full-Fisher
 * tensor's values are read one tensor at a time and checked finite and non-negative.
 */
import { FmnError, formatShape, readMaskFisher, SafetensorsFile, shapeEquals } from '@fmn/core';
import { layoutText, type Opened } from './compatibility.js';
import { asFloat32 } from './float.js';
import type { MaskFisherValues } from './weights.js';

export async function readMaskFishers(
  files: readonly string[],
  models: readonly Opened[],
): Promise<MaskFisherValues[]> {
  const out: MaskFisherValues[] = [];
  for (const [j, file] of files.entries()) {
    const f = await readMaskFisher(file);
    const want = models[j].layout;
    const got = f.layout;
    if (
      got.layers !== want.layers ||
      got.heads !== want.heads ||
      got.intermediate !== want.intermediate ||
      (got.headSize !== 0 && got.headSize !== want.headSize)
    ) {
      throw new FmnError(
        `mask Fisher layout (${layoutText(got)}) differs from its model's (${layoutText(want)}, ${models[j].ckpt.dir})`,
        file,
      );
    }
    out.push({ layout: want, head: f.head, neuron: f.neuron });
  }
  return out;
}

export async function openFullFishers(
  files: readonly string[],
  models: readonly Opened[],
  floatNames: readonly string[],
  toClose: { close(): Promise<void> }[],
): Promise<SafetensorsFile[]> {
  const out: SafetensorsFile[] = [];
  for (const [j, file] of files.entries()) {
    const f = await SafetensorsFile.open(file);
    toClose.push(f);
    out.push(f);
    for (const name of floatNames) {
      if (!f.has(name)) throw new FmnError(`full Fisher file has no tensor for parameter "${name}"`, file);
      const shape = f.info(name).shape;
      const want = models[j].ckpt.info(name).shape;
      if (!shapeEquals(shape, want)) {
        throw new FmnError(
          `full Fisher tensor "${name}" is ${formatShape(shape)} but the parameter is ${formatShape(want)}`,
          file,
        );
      }
    }
  }
  return out;
}

/** Float32 values of a full-Fisher tensor, checked finite and non-negative: a fresh array. */
export async function readFullFisherTensor(f: SafetensorsFile, name: string): Promise<Float32Array> {
  const values = asFloat32(await f.read(name));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) throw new FmnError(`Fisher tensor "${name}" has NaN at index ${i}`, f.path);
    if (!Number.isFinite(v))
      throw new FmnError(`Fisher tensor "${name}" has an infinite value at index ${i}`, f.path);
    if (v < 0)
      throw new FmnError(`Fisher tensor "${name}" has a negative value (${v}) at index ${i}`, f.path);
  }
  return values;
}
