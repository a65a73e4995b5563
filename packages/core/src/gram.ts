/**
 * RegMean's Gram matrices (METHOD.md section 5.4): which Linears have one, and their accumulation
 * over batches from a backend session (ModelSession.linearInputGrams).
 */
import type { ModelSession } from './backend.js';
import type { EncoderModel } from './encoder.js';
import { FmnError } from './errors.js';
import type { BatchSource, FisherProgress } from './fisher.js';

/** A Linear whose input Gram a backend computes: by weight name, its input width and where it reads. */
export interface GramTarget {
  /** the Linear's weight name (the Gram file's tensor name) */
  readonly name: string;
  /** input width: the Gram is [inDim, inDim] */
  readonly inDim: number;
  /** `tokens`: every non-padding token; `first`: token 0 of every example (the head's first Linear) */
  readonly over: 'tokens' | 'first';
}

/**
 * The Linears of METHOD.md 5.4 in a fixed order: ELECTRA's embeddings_project, then per layer
 * query, key, value, attention output, FFN intermediate and output; last the classification
 * head's first Linear (BERT's pooler; for the other architectures a task-head tensor, which callers
 * that merge drop by their adapter's isTaskHead).
 */
export function gramTargets(model: EncoderModel): GramTarget[] {
  const out: GramTarget[] = [];
  const add = (w: { name: string; shape: readonly number[] }, over: 'tokens' | 'first') =>
    out.push({ name: w.name, inDim: w.shape[1], over });
  if (model.embeddings.project) add(model.embeddings.project.weight, 'tokens');
  for (const l of model.layers) {
    for (const lin of [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output])
      add(lin.weight, 'tokens');
  }
  if (model.head?.kind === 'classification') add(model.head.steps[0].linear.weight, 'first');
  return out;
}

export interface Grams {
  /** by weight name, [in*in] row-major float32 sums; Linears sharing an input share one array */
  readonly grams: Map<string, Float32Array>;
  readonly examples: number;
}

/** Sums a session's per-batch Gram matrices over the batches (float32, as the files hold them). */
export async function computeGrams(
  session: ModelSession,
  targets: readonly GramTarget[],
  batches: BatchSource,
  progress: FisherProgress = {},
): Promise<Grams> {
  if (!session.linearInputGrams) throw new FmnError('this backend does not compute Gram matrices');
  const acc = new Map<string, Float32Array>();
  let examples = 0;
  let count = 0;
  for await (const batch of batches) {
    const part = await session.linearInputGrams(batch);
    // a source array shared by several names (query, key, value) is accumulated once, into one sum
    const bySource = new Map<Float32Array, Float32Array>();
    const added = new Set<Float32Array>();
    for (const t of targets) {
      const g = part.get(t.name);
      if (!g || g.length !== t.inDim * t.inDim)
        throw new Error(
          `backend returned ${g ? `${g.length} values` : 'no Gram'} for "${t.name}" in batch ${count + 1}, expected ${t.inDim}x${t.inDim}`,
        );
      let a = acc.get(t.name);
      if (!a) {
        a = bySource.get(g) ?? new Float32Array(g.length);
        acc.set(t.name, a);
      }
      bySource.set(g, a);
      if (added.has(a)) continue;
      added.add(a);
      for (let i = 0; i < g.length; i++) {
        if (!Number.isFinite(g[i]))
          throw new FmnError(`the backend returned a non-finite Gram value for "${t.name}"`);
        a[i] += g[i];
      }
    }
    examples += batch.size;
    count++;
    progress.onBatch?.({ batches: count, examples, loss: NaN });
  }
  if (examples === 0) throw new FmnError('no examples: the Gram matrices need at least one');
  return { grams: acc, examples };
}
