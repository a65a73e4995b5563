/**
 * Helpers to write an `ArchitectureFixture` (test only): tensors with their part in the
 * HuggingFace model, linear and LayerNorm pairs, and the BERT layer layout.
 */
import type { FixtureDims, FixtureInit, FixtureLayerSlot, FixtureTensor, TensorPart } from '@fmn/core';

/** A part, or a part per parameter (a layer's weight and bias rows differ). */
export type PartOf = TensorPart | ((param: 'weight' | 'bias') => TensorPart);

const partOf = (p: PartOf, param: 'weight' | 'bias'): TensorPart => (typeof p === 'function' ? p(param) : p);

/** The part of a tensor of encoder layer `layer` in `slot`. */
export const layerPart =
  (layer: number, slot: FixtureLayerSlot) =>
  (param: 'weight' | 'bias'): TensorPart => ({ kind: 'layer', layer, slot, param });

export function tensor(
  name: string,
  shape: readonly number[],
  init: FixtureInit,
  part: TensorPart,
  zeroRow?: number,
): FixtureTensor {
  return zeroRow === undefined ? { name, shape, init, part } : { name, shape, init, part, zeroRow };
}

/** nn.Linear(inp, out): `name.weight` [out, inp] and `name.bias` [out]. */
export function linear(name: string, out: number, inp: number, part: PartOf): FixtureTensor[] {
  return [
    tensor(`${name}.weight`, [out, inp], 'weight', partOf(part, 'weight')),
    tensor(`${name}.bias`, [out], 'bias', partOf(part, 'bias')),
  ];
}

/** nn.LayerNorm(n): `name.weight` and `name.bias`, both [n]. */
export function norm(name: string, n: number, part: PartOf): FixtureTensor[] {
  return [
    tensor(`${name}.weight`, [n], 'norm-weight', partOf(part, 'weight')),
    tensor(`${name}.bias`, [n], 'norm-bias', partOf(part, 'bias')),
  ];
}

/** Layer `l` as modeling_bert names it (`encoder.layer.N.attention.self.query`, ...). */
export function bertLayer(d: FixtureDims, l: number): FixtureTensor[] {
  const q = `encoder.layer.${l}`;
  return [
    ...linear(`${q}.attention.self.query`, d.H, d.H, layerPart(l, 'query')),
    ...linear(`${q}.attention.self.key`, d.H, d.H, layerPart(l, 'key')),
    ...linear(`${q}.attention.self.value`, d.H, d.H, layerPart(l, 'value')),
    ...linear(`${q}.attention.output.dense`, d.H, d.H, layerPart(l, 'attention-output')),
    ...norm(`${q}.attention.output.LayerNorm`, d.H, layerPart(l, 'attention-norm')),
    ...linear(`${q}.intermediate.dense`, d.I, d.H, layerPart(l, 'intermediate')),
    ...linear(`${q}.output.dense`, d.H, d.I, layerPart(l, 'output')),
    ...norm(`${q}.output.LayerNorm`, d.H, layerPart(l, 'output-norm')),
  ];
}

/** The config.json attributes of a BertConfig-style config (BERT, RoBERTa, ELECTRA). */
export function bertConfigAttributes(d: FixtureDims, hiddenAct: string, layerNormEps: number) {
  return {
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: hiddenAct,
    hidden_dropout_prob: 0.1,
    hidden_size: d.H,
    intermediate_size: d.I,
    layer_norm_eps: layerNormEps,
    num_attention_heads: d.nH,
    num_hidden_layers: d.L,
    position_embedding_type: 'absolute',
    type_vocab_size: d.T,
    use_cache: true,
  };
}
