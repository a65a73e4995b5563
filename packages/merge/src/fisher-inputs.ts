/**
 * The Fisher inputs of a merge, through core's file formats: mask Fisher files read and checked
 * against their models' layouts, full Fisher files opened and checked to hold every merged
 * parameter in its shape; and each file's recorded model (model type, weights hash) checked
 * against the model it is given for (issue 18: swapped files, one model's Fisher given twice).
 */
import {
  FmnError,
  formatShape,
  FullFisherFile,
  GramFile,
  readMaskFisher,
  recordMismatch,
  shapeEquals,
  type FileHash,
  type ModelRecord,
} from '@fmn/core';
import { layoutText, type Opened } from './compatibility.js';
import type { MaskFisherValues } from './weights.js';

export interface RecordCheck {
  /** per model, its weights files' hashes */
  readonly weights: readonly (readonly FileHash[])[];
  /** warn instead of failing on a mismatch */
  readonly allowMismatch: boolean;
  readonly warn: (message: string) => void;
}

/** The file's recorded model against model j: a mismatch is an FmnError naming the file (or a warning). */
async function checkRecord(
  file: string,
  record: ModelRecord,
  j: number,
  model: Opened,
  check: RecordCheck,
  kind: 'Fisher' | 'Gram' = 'Fisher',
): Promise<void> {
  const why = await recordMismatch(record, {
    dir: model.ckpt.dir,
    modelType: model.ckpt.modelType,
    weights: check.weights[j],
  });
  if (why === undefined) return;
  const message = `this ${kind} file, given for model ${j + 1} (${model.ckpt.dir}), does not belong to it: ${why}`;
  if (check.allowMismatch) check.warn(`${message} (${file}); merging anyway (--allow-fisher-mismatch)`);
  else
    throw new FmnError(
      `${message}; was the file swapped or given twice? (--allow-fisher-mismatch merges anyway)`,
      file,
    );
}

export async function readMaskFishers(
  files: readonly string[],
  models: readonly Opened[],
  check: RecordCheck,
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
    await checkRecord(file, f.record, j, models[j], check);
    out.push({ layout: want, head: f.head, neuron: f.neuron });
  }
  return out;
}

export async function openFullFishers(
  files: readonly string[],
  models: readonly Opened[],
  floatNames: readonly string[],
  toClose: { close(): Promise<void> }[],
  check: RecordCheck,
): Promise<FullFisherFile[]> {
  const out: FullFisherFile[] = [];
  for (const [j, file] of files.entries()) {
    const f = await FullFisherFile.open(file);
    toClose.push(f);
    out.push(f);
    for (const name of floatNames) {
      if (!f.has(name)) throw new FmnError(`full Fisher file has no tensor for parameter "${name}"`, file);
      const shape = f.shape(name);
      const want = models[j].ckpt.info(name).shape;
      if (!shapeEquals(shape, want)) {
        throw new FmnError(
          `full Fisher tensor "${name}" is ${formatShape(shape)} but the parameter is ${formatShape(want)}`,
          file,
        );
      }
    }
    await checkRecord(file, f.record, j, models[j], check);
  }
  return out;
}

/** Each Gram file's recorded model against the model it is given for (as for the Fisher files). */
export async function checkGramRecords(
  files: readonly string[],
  models: readonly Opened[],
  check: RecordCheck,
): Promise<void> {
  for (const [j, file] of files.entries()) {
    const g = await GramFile.open(file);
    try {
      await checkRecord(file, g.record, j, models[j], check, 'Gram');
    } finally {
      await g.close();
    }
  }
}
