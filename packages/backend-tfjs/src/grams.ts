/**
 * RegMean's Gram matrices on tfjs (METHOD.md 5.4): the input of every Linear of gramTargets, seen
 * through the forward pass's tap, multiplied out as X^T diag(attention mask) X (the head's first
 * Linear reads token 0 of every example: X^T X).
 */
import { gramTargets, type EncoderModel } from '@fmn/core';
import type { CLinear, Plan } from './params.js';
import { tf } from './runtime.js';

export interface GramTap {
  /** the weight names whose Gram this compute linear's input gives (query, key, value share one) */
  readonly names: string[];
  readonly over: 'tokens' | 'first';
  readonly inDim: number;
}

/** Which compute linears feed which Gram targets (query/key/value are one fused linear here). */
export function gramTaps(model: EncoderModel, plan: Plan): Map<CLinear, GramTap> {
  const byName = new Map<string, CLinear>();
  if (model.embeddings.project && plan.emb.project)
    byName.set(model.embeddings.project.weight.name, plan.emb.project);
  model.layers.forEach((l, i) => {
    const c = plan.layers[i];
    for (const lin of [l.query, l.key, l.value]) byName.set(lin.weight.name, c.qkv);
    byName.set(l.attentionOutput.weight.name, c.out);
    byName.set(l.intermediate.weight.name, c.ffn1);
    byName.set(l.output.weight.name, c.ffn2);
  });
  if (model.head?.kind === 'classification' && plan.head?.kind === 'classification')
    byName.set(model.head.steps[0].linear.weight.name, plan.head.steps[0].lin);
  const taps = new Map<CLinear, GramTap>();
  for (const t of gramTargets(model)) {
    const lin = byName.get(t.name);
    if (!lin) throw new Error(`internal: no compute linear for the Gram of "${t.name}"`);
    const tap = taps.get(lin) ?? { names: [], over: t.over, inDim: t.inDim };
    tap.names.push(t.name);
    taps.set(lin, tap);
  }
  return taps;
}

/**
 * A forward-pass tap adding each tapped linear's Gram into `sums` (float32, one array per compute
 * linear); `rowMask` [N, 1] is the chunk's attention mask as float. Call inside a tidy.
 */
export function gramTap(
  taps: Map<CLinear, GramTap>,
  sums: Map<CLinear, Float32Array>,
  rowMask: tf.Tensor2D,
): (lin: CLinear, x: tf.Tensor2D) => void {
  return (lin, x) => {
    const t = taps.get(lin);
    if (!t) return;
    const xm = t.over === 'tokens' ? tf.mul(x, rowMask) : x;
    const g = tf.matMul(tf.transpose(xm), x).dataSync();
    let acc = sums.get(lin);
    if (!acc) sums.set(lin, (acc = new Float32Array(t.inDim * t.inDim)));
    for (let i = 0; i < acc.length; i++) acc[i] += g[i];
  };
}
