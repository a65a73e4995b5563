/**
 * The Gram file (RegMean, METHOD.md 5.4; written by `fmn gram`):
 * for every linear layer, one F32 tensor named after the layer's weight parameter
 * ("bert.encoder.layer.0.attention.self.query.weight"), of shape [in, in] (in = the weight's
 * second dimension), holding G = sum over examples and positions of x x^T of the layer's input x.
 * Metadata: "format" = fmn-gram, "examples", and the model record (model, model_type,
 * weights_sha256). Values are finite, G is symmetric (to float32 rounding) with a non-negative
 * diagonal; shards combine by summing.
 */
import { FmnError } from '../errors.js';
import { formatShape } from '../tensor.js';
import { sumTensorFiles, TensorSumsFile, writeF32Tensors } from './tensor-sums.js';

export const GRAM_FORMAT = 'fmn-gram';

/** Relative tolerance of the symmetry check (sums accumulated in different orders). */
const SYMMETRY_TOLERANCE = 1e-5;

export class GramFile extends TensorSumsFile {
  /** Opens a Gram file: format name (when recorded), F32, square 2-D tensors. */
  static async open(path: string): Promise<GramFile> {
    const g = new GramFile(await TensorSumsFile.openChecked(path, GRAM_FORMAT, 'Gram'), 'Gram');
    for (const name of g.names()) {
      const s = g.shape(name);
      if (s.length !== 2 || s[0] !== s[1]) {
        await g.close();
        throw new FmnError(`Gram tensor "${name}" is ${formatShape(s)}, not a square matrix`, path);
      }
    }
    return g;
  }

  /** A Gram matrix, checked finite, symmetric, with a non-negative diagonal: a fresh [n * n] array. */
  async read(name: string): Promise<Float32Array> {
    const v = await this.readValues(name);
    checkGram(v, this.shape(name)[0], name, this.path);
    return v;
  }
}

export function checkGram(v: Float32Array, n: number, name: string, file: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]))
      throw new FmnError(`Gram tensor "${name}" has a non-finite value at index ${i}`, file);
  }
  for (let r = 0; r < n; r++) {
    if (v[r * n + r] < 0)
      throw new FmnError(`Gram tensor "${name}" has a negative diagonal entry at ${r}`, file);
    for (let c = r + 1; c < n; c++) {
      const a = v[r * n + c];
      const b = v[c * n + r];
      if (Math.abs(a - b) > SYMMETRY_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), 1e-30)) {
        throw new FmnError(`Gram tensor "${name}" is not symmetric at [${r}, ${c}] (${a} vs ${b})`, file);
      }
    }
  }
}

export interface GramTensor {
  readonly name: string;
  /** [in, in] */
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export async function writeGram(
  path: string,
  tensors: readonly GramTensor[],
  metadata: Record<string, string>,
): Promise<void> {
  for (const t of tensors) {
    const [n, m] = t.shape;
    if (t.shape.length !== 2 || n !== m || t.values.length !== n * n) {
      throw new Error(`writeGram: "${t.name}" must be a square matrix with ${formatShape(t.shape)} values`);
    }
    checkGram(t.values, n, t.name, path);
  }
  // the format key comes last: it describes the tensors and must not be overridden
  await writeF32Tensors(path, tensors, { ...metadata, format: GRAM_FORMAT });
}

/** Sums Gram shards (same tensors and shapes) into `outPath`. */
export function combineGrams(
  paths: readonly string[],
  outPath: string,
  metadata: Record<string, string>,
): Promise<void> {
  return sumTensorFiles(
    paths,
    (p) => GramFile.open(p),
    (f, n) => f.read(n),
    outPath,
    { ...metadata, format: GRAM_FORMAT },
  );
}

/** Writes Gram matrices given by weight name ([n * n] values each) with the `examples` count. */
export function writeGramFile(
  path: string,
  grams: ReadonlyMap<string, Float32Array>,
  examples: number,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors = [...grams].map(([name, values]) => {
    const n = Math.round(Math.sqrt(values.length));
    if (n * n !== values.length)
      throw new FmnError(`Gram "${name}" holds ${values.length} values, not a square`, path);
    return { name, shape: [n, n], values };
  });
  return writeGram(path, tensors, { ...metadata, examples: String(examples) });
}

/** Reads every Gram matrix of a file (checked as GramFile.read checks them) and its metadata. */
export async function readGramFile(
  path: string,
): Promise<{ grams: Map<string, Float32Array>; metadata: Readonly<Record<string, string>> }> {
  const f = await GramFile.open(path);
  try {
    const grams = new Map<string, Float32Array>();
    for (const name of f.names()) grams.set(name, await f.read(name));
    return { grams, metadata: f.metadata };
  } finally {
    await f.close();
  }
}
