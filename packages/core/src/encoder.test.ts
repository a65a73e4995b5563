import { describe, expect, it } from 'vitest';
import { encoderParams, maskLayoutOf, type EncoderModel, type Linear, type Param } from './encoder.js';

const p = (name: string, ...shape: number[]): Param => ({
  name,
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});
const lin = (name: string, out: number, inp: number, bias = true): Linear => ({
  weight: p(`${name}.weight`, out, inp),
  ...(bias && { bias: p(`${name}.bias`, out) }),
});
const ln = (name: string, n: number) => ({
  weight: p(`${name}.weight`, n),
  bias: p(`${name}.bias`, n),
  eps: 1e-12,
});

/** One-layer model, hidden 4, 2 heads, I = 6, with an MLM head whose decoder is tied to the word embeddings. */
function model(): EncoderModel {
  const word = p('emb.word', 10, 4);
  return {
    modelType: 'bert',
    dims: {
      vocabSize: 10,
      hidden: 4,
      embeddingSize: 4,
      numLayers: 1,
      numHeads: 2,
      headSize: 2,
      intermediate: 6,
      maxPositions: 8,
      typeVocabSize: 2,
      padTokenId: 0,
    },
    activation: 'gelu',
    embeddings: {
      word,
      position: p('emb.pos', 8, 4),
      tokenType: p('emb.type', 2, 4),
      norm: ln('emb.ln', 4),
      positionIds: { kind: 'absolute' },
    },
    layers: [
      {
        query: lin('q', 4, 4),
        key: lin('k', 4, 4),
        value: lin('v', 4, 4),
        attentionOutput: lin('ao', 4, 4),
        attentionNorm: ln('aln', 4),
        intermediate: lin('ffn1', 6, 4),
        output: lin('ffn2', 4, 6),
        outputNorm: ln('oln', 4),
      },
    ],
    head: {
      kind: 'masked-lm',
      transform: lin('t', 4, 4),
      activation: 'gelu',
      norm: ln('tln', 4),
      decoder: word,
      decoderBias: p('dec.bias', 10),
    },
  };
}

describe('encoder description helpers', () => {
  it('maskLayoutOf reads L, H, head size and I from the dims', () => {
    expect(maskLayoutOf(model())).toEqual({ layers: 1, heads: 2, headSize: 2, intermediate: 6 });
  });

  it('encoderParams lists every parameter once (tied decoder included once), in a stable order', () => {
    const names = encoderParams(model()).map((x) => x.name);
    expect(names).toEqual([
      'emb.word',
      'emb.pos',
      'emb.type',
      'emb.ln.weight',
      'emb.ln.bias',
      'q.weight',
      'q.bias',
      'k.weight',
      'k.bias',
      'v.weight',
      'v.bias',
      'ao.weight',
      'ao.bias',
      'aln.weight',
      'aln.bias',
      'ffn1.weight',
      'ffn1.bias',
      'ffn2.weight',
      'ffn2.bias',
      'oln.weight',
      'oln.bias',
      't.weight',
      't.bias',
      'tln.weight',
      'tln.bias',
      'dec.bias',
    ]);
  });

  it('includes a classification head and ELECTRA-style projection, skips absent biases', () => {
    const m = model();
    const cls: EncoderModel = {
      ...m,
      embeddings: { ...m.embeddings, tokenType: undefined, project: lin('proj', 4, 4, false) },
      head: {
        kind: 'classification',
        numLabels: 3,
        steps: [
          { linear: lin('pool', 4, 4), activation: 'tanh' },
          { linear: lin('cls', 3, 4), activation: 'identity' },
        ],
      },
    };
    const names = encoderParams(cls).map((x) => x.name);
    expect(names.slice(0, 5)).toEqual(['emb.word', 'emb.pos', 'emb.ln.weight', 'emb.ln.bias', 'proj.weight']);
    expect(names.slice(-4)).toEqual(['pool.weight', 'pool.bias', 'cls.weight', 'cls.bias']);
  });
});
