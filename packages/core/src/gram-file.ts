/**
 * The Gram file (METHOD.md 5.4): safetensors with one float32 [in, in] tensor per Linear, named
 * after its weight, and metadata like the Fisher files (`format: fmn-gram`, `examples`).
 */
import { FmnError } from './errors.js';
import { SafetensorsFile, writeSafetensors } from './safetensors.js';
import { fromFloat32 } from './tensor.js';

export const GRAM_FORMAT = 'fmn-gram';

/** Writes Gram matrices (by weight name, [n*n] each) atomically, with metadata. */
export async function writeGramFile(
  path: string,
  grams: ReadonlyMap<string, Float32Array>,
  examples: number,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors = [...grams].map(([name, g]) => {
    const n = Math.round(Math.sqrt(g.length));
    if (n * n !== g.length) throw new FmnError(`Gram "${name}" holds ${g.length} values, not a square`, path);
    return { name, dtype: 'F32' as const, shape: [n, n], data: () => fromFloat32(g, 'F32') };
  });
  // the format keys come last: they describe the tensors and must not be overridden
  await writeSafetensors(path, tensors, { ...metadata, format: GRAM_FORMAT, examples: String(examples) });
}

/** Reads a Gram file: every tensor square, finite, with a non-negative diagonal. */
export async function readGramFile(
  path: string,
): Promise<{ grams: Map<string, Float32Array>; metadata: Readonly<Record<string, string>> }> {
  const f = await SafetensorsFile.open(path);
  try {
    if (f.metadata.format !== GRAM_FORMAT)
      throw new FmnError(
        `not a Gram file written by fmn (metadata "format" is ${JSON.stringify(f.metadata.format ?? null)})`,
        path,
      );
    const grams = new Map<string, Float32Array>();
    for (const name of f.names()) {
      const shape = f.info(name).shape;
      if (shape.length !== 2 || shape[0] !== shape[1])
        throw new FmnError(`Gram tensor "${name}" must be square, got [${shape.join(', ')}]`, path);
      const g = await f.readFloat32(name);
      const n = shape[0];
      for (let i = 0; i < g.length; i++) {
        if (!Number.isFinite(g[i]))
          throw new FmnError(`Gram tensor "${name}" has a non-finite value at index ${i}`, path);
      }
      for (let i = 0; i < n; i++) {
        if (g[i * n + i] < 0)
          throw new FmnError(`Gram tensor "${name}" has a negative diagonal entry at ${i}`, path);
      }
      grams.set(name, g);
    }
    return { grams, metadata: f.metadata };
  } finally {
    await f.close();
  }
}
