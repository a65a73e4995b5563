/**
 * RegMean's Gram graph (METHOD.md 5.4): the forward pass with every token through the last layer,
 * and for every Linear of core's gramTargets the Gram matrix of its input, X^T diag(attention
 * mask) X over the batch's tokens (the head's first Linear: token 0 of every example, X^T X).
 */
import { gramTargets, type EncoderModel } from '@fmn/core';
import { buildForward, classificationHead } from './encoder-graph.js';
import type { Graph, Value } from './graph.js';

/** Output name of the k-th distinct Gram of the Gram graph. */
export const gramOutputName = (k: number) => `gram_${k}`;

/**
 * The Gram graph: inputs as the forward graph's; outputs gram_k [in, in]. `outputs` maps every
 * target weight name to its output (query, key and value read one input and share one output).
 */
export function gramGraph(model: EncoderModel): { graph: Graph; outputs: Map<string, string> } {
  const head = classificationHead(model);
  const targets = new Map(gramTargets(model).map((t) => [t.name, t]));
  const seen: { name: string; x: Value }[] = [];
  const f = buildForward(model, 'none', [head], {
    fullLastLayer: true,
    tap: (lin, x) => {
      if (targets.has(lin.weight.name)) seen.push({ name: lin.weight.name, x });
    },
  });
  const g = f.graph;
  const rowMask = g.reshape(g.cast(f.attentionMask, 'float32'), [-1, 1], ['tokens', 1]);
  const outputs = new Map<string, string>();
  const byInput = new Map<number, string>();
  for (const { name, x } of seen) {
    let out = byInput.get(x.id);
    if (!out) {
      const xm = targets.get(name)!.over === 'tokens' ? g.mul(x, rowMask) : x;
      out = gramOutputName(byInput.size);
      g.output(g.identityNamed(g.matmul(g.transpose(xm, [1, 0]), x), out));
      byInput.set(x.id, out);
    }
    outputs.set(name, out);
  }
  const missing = [...targets.keys()].filter((n) => !outputs.has(n));
  if (missing.length) throw new Error(`internal: the forward pass never reads ${missing.join(', ')}`);
  return { graph: g, outputs };
}
