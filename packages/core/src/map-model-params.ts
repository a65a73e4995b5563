/**
 * A copy of an encoder description whose parameters take new values: same structure, names,
 * shapes and tying (a Param shared by two places, e.g. a masked-LM decoder tied to the word
 * embeddings, stays one object in the copy).
 */
import type { EncoderModel, LayerNorm, Linear, Param } from './encoder.js';

export function mapModelParams(model: EncoderModel, value: (p: Param) => Float32Array): EncoderModel {
  const memo = new Map<Param, Param>();
  const P = (p: Param): Param => {
    let q = memo.get(p);
    if (!q) {
      q = { ...p, shape: [...p.shape], data: value(p) };
      memo.set(p, q);
    }
    return q;
  };
  const L = (l: Linear): Linear => ({ weight: P(l.weight), bias: l.bias ? P(l.bias) : undefined });
  const N = (n: LayerNorm): LayerNorm => ({ weight: P(n.weight), bias: P(n.bias), eps: n.eps });
  const e = model.embeddings;
  const h = model.head;
  return {
    ...model,
    embeddings: {
      ...e,
      word: P(e.word),
      position: P(e.position),
      tokenType: e.tokenType ? P(e.tokenType) : undefined,
      norm: N(e.norm),
      project: e.project ? L(e.project) : undefined,
    },
    layers: model.layers.map((l) => ({
      query: L(l.query),
      key: L(l.key),
      value: L(l.value),
      attentionOutput: L(l.attentionOutput),
      attentionNorm: N(l.attentionNorm),
      intermediate: L(l.intermediate),
      output: L(l.output),
      outputNorm: N(l.outputNorm),
    })),
    head:
      h === undefined
        ? undefined
        : h.kind === 'classification'
          ? { ...h, steps: h.steps.map((s) => ({ linear: L(s.linear), activation: s.activation })) }
          : {
              ...h,
              transform: L(h.transform),
              norm: N(h.norm),
              decoder: P(h.decoder),
              decoderBias: P(h.decoderBias),
            },
  };
}
