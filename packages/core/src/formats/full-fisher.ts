/**
 * The full diagonal Fisher file (METHOD.md section 4), written by `fmn fisher --full`: one F32
 * tensor per parameter (the parameter's name and shape) holding the sum over examples of squared
 * per-example gradients; metadata "format" = fmn-full-fisher, "examples", the model record
 * (model, model_type, weights_sha256, model_sha256) and the settings it was computed with.
 */
import { rowSize, type RowRange } from '../rows.js';
import { sumTensorFiles, TensorSumsFile, writeF32Tensors } from './tensor-sums.js';
import { checkFiniteNonNegative } from './validate.js';

export const FULL_FISHER_FORMAT = 'fmn-full-fisher';

export class FullFisherFile extends TensorSumsFile {
  /** Opens a full Fisher file: its format name (when recorded) and every tensor F32 are checked. */
  static async open(path: string): Promise<FullFisherFile> {
    return new FullFisherFile(
      await TensorSumsFile.openChecked(path, FULL_FISHER_FORMAT, 'full Fisher'),
      'full Fisher',
    );
  }

  /**
   * A tensor's values, or those of its rows `rows` (core's RowRange), checked finite and
   * non-negative (a bad value named by its index in the whole tensor): a fresh array.
   */
  async read(name: string, rows?: RowRange): Promise<Float32Array> {
    const values = await this.readValues(name, rows);
    const offset = rows ? rows.start * rowSize(this.f.info(name).shape) : 0;
    checkFiniteNonNegative(values, name, this.path, offset);
    return values;
  }
}

export interface FullFisherTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Writes a full Fisher file; `metadata` (examples, model record, settings) follows the format name. */
export async function writeFullFisher(
  path: string,
  tensors: readonly FullFisherTensor[],
  metadata: Record<string, string>,
): Promise<Record<string, string>> {
  const md = { format: FULL_FISHER_FORMAT, ...metadata };
  await writeF32Tensors(path, tensors, md);
  return md;
}

/** Sums full Fisher shards (same tensors and shapes) into `outPath`, one tensor at a time. */
export function combineFullFishers(
  paths: readonly string[],
  outPath: string,
  metadata: Record<string, string>,
): Promise<void> {
  return sumTensorFiles(
    paths,
    (p) => FullFisherFile.open(p),
    (f, n) => f.read(n),
    outPath,
    metadata,
  );
}
