import { describe, expect, it } from 'vitest';
import { isFmnError, type MaskMapping } from '@fmn/core';
import { DIMS, fakeRole, fakeShapes } from '../test/fake.js';
import {
  applyZeroRule,
  expandWeight,
  tensorWeight,
  universalWeight,
  weightedAverage,
  type MaskFisherValues,
} from './weights.js';

// L = 2 layers, H = 2 heads of size d = 2 (hidden 4), I = 3 neurons.
const layout = { layers: 2, heads: 2, headSize: 2, intermediate: 3 };
const F: MaskFisherValues = {
  layout,
  head: Float32Array.from([1, 2, 3, 4]), // [[1, 2], [3, 4]]
  neuron: Float32Array.from([1, 2, 3, 4, 5, 6]), // [[1, 2, 3], [4, 5, 6]]
};
// Hand-computed: layer means of head F: 1.5, 3.5; of neuron F: 2, 5; universal ((1.5+2) + (3.5+5)) / 2 = 6.

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);
/** [R, C] tensor whose row r is constant rows[r] */
const byRow = (rows: number[], C: number): number[] => rows.flatMap((v) => fill(C, v));
/** [R, C] tensor whose column c is cols[c] */
const byCol = (R: number, cols: number[]): number[] => Array.from({ length: R }, () => cols).flat();

const shapes = new Map(fakeShapes());
const cases: [MaskMapping, string, string, number[]][] = [
  // 5.1 paper
  ['paper', 'query weight rows of head h take head F[l, h]', 'layer.1.q.weight', byRow([3, 3, 4, 4], 4)],
  ['paper', 'query bias entries of head h take head F[l, h]', 'layer.1.q.bias', [3, 3, 4, 4]],
  ['paper', 'key weight rows of head h take head F[l, h]', 'layer.0.k.weight', byRow([1, 1, 2, 2], 4)],
  ['paper', 'key bias entries of head h take head F[l, h]', 'layer.0.k.bias', [1, 1, 2, 2]],
  ['paper', 'value weight takes the layer mean of head F', 'layer.1.v.weight', fill(16, 3.5)],
  ['paper', 'value bias takes the layer mean of head F', 'layer.1.v.bias', fill(4, 3.5)],
  ['paper', 'attention output dense weight: head mean', 'layer.0.o.weight', fill(16, 1.5)],
  ['paper', 'attention output dense bias: head mean', 'layer.0.o.bias', fill(4, 1.5)],
  ['paper', 'attention output LayerNorm weight: head mean', 'layer.1.ln1.weight', fill(4, 3.5)],
  ['paper', 'attention output LayerNorm bias: head mean', 'layer.1.ln1.bias', fill(4, 3.5)],
  ['paper', 'FFN intermediate weight row i takes neuron F[l, i]', 'layer.1.ffn1.weight', byRow([4, 5, 6], 4)],
  ['paper', 'FFN intermediate bias entry i takes neuron F[l, i]', 'layer.1.ffn1.bias', [4, 5, 6]],
  ['paper', 'FFN output weight: neuron mean', 'layer.0.ffn2.weight', fill(12, 2)],
  ['paper', 'FFN output bias: neuron mean', 'layer.0.ffn2.bias', fill(4, 2)],
  ['paper', 'output LayerNorm weight: neuron mean', 'layer.1.ln2.weight', fill(4, 5)],
  ['paper', 'output LayerNorm bias: neuron mean', 'layer.1.ln2.bias', fill(4, 5)],
  ['paper', 'word embeddings: universal', 'emb.word', fill(20, 6)],
  ['paper', 'embeddings LayerNorm: universal', 'emb.norm.weight', fill(4, 6)],
  ['paper', 'pooler: universal', 'pooler.weight', fill(16, 6)],
  // 5.2 block: the differences
  ['block', 'value weight rows of head h take head F[l, h]', 'layer.1.v.weight', byRow([3, 3, 4, 4], 4)],
  ['block', 'value bias entries of head h take head F[l, h]', 'layer.1.v.bias', [3, 3, 4, 4]],
  [
    'block',
    'attention output weight columns of head h take head F[l, h]',
    'layer.1.o.weight',
    byCol(4, [3, 3, 4, 4]),
  ],
  ['block', 'attention output bias keeps the head mean', 'layer.1.o.bias', fill(4, 3.5)],
  ['block', 'attention LayerNorm keeps the head mean', 'layer.0.ln1.weight', fill(4, 1.5)],
  ['block', 'FFN output weight column i takes neuron F[l, i]', 'layer.0.ffn2.weight', byCol(4, [1, 2, 3])],
  ['block', 'FFN output bias keeps the neuron mean', 'layer.0.ffn2.bias', fill(4, 2)],
  ['block', 'output LayerNorm keeps the neuron mean', 'layer.1.ln2.bias', fill(4, 5)],
  // 5.2 block: the same as paper elsewhere
  ['block', 'query rows as in paper', 'layer.0.q.weight', byRow([1, 1, 2, 2], 4)],
  ['block', 'FFN intermediate rows as in paper', 'layer.0.ffn1.weight', byRow([1, 2, 3], 4)],
  ['block', 'embeddings as in paper', 'emb.word', fill(20, 6)],
];

describe('tensorWeight: METHOD.md 5.1 and 5.2 tables', () => {
  it.each(cases)('%s: %s (%s)', (mapping, _what, name, expected) => {
    const shape = shapes.get(name)!;
    const role = fakeRole(name);
    if (role.taskHead) throw new Error('unexpected head');
    const w = tensorWeight(F, role[mapping], shape, name);
    expect([...expandWeight(w, shape)]).toEqual(expected);
  });

  it('universal weight is the mean over layers of (head mean + neuron mean)', () => {
    expect(universalWeight(F)).toBe(6);
  });

  it('a per-head weighting on an axis of the wrong size is an FmnError naming the tensor', () => {
    try {
      tensorWeight(F, { kind: 'per-head', layer: 0, axis: 0 }, [3, 4], 'x.weight');
      expect.unreachable();
    } catch (e) {
      expect(isFmnError(e)).toBe(true);
      expect((e as Error).message).toContain('"x.weight"');
    }
  });

  it('a layer outside the Fisher is an FmnError', () => {
    expect(() => tensorWeight(F, { kind: 'head-mean', layer: 2 }, [4], 'x')).toThrow(/layer 2/);
  });
});

describe('applyZeroRule', () => {
  it('sets to 1 only the entries that are 0 in every model, and leaves the inputs unchanged', () => {
    const a: MaskFisherValues = {
      layout,
      head: Float32Array.from([0, 0, 3, 0]),
      neuron: Float32Array.from([0, 2, 0, 0, 0, 0]),
    };
    const b: MaskFisherValues = {
      layout,
      head: Float32Array.from([0, 5, 0, 0]),
      neuron: Float32Array.from([0, 0, 0, 7, 0, 0]),
    };
    const { fishers, zeroed } = applyZeroRule([a, b]);
    expect([...fishers[0].head]).toEqual([1, 0, 3, 1]);
    expect([...fishers[1].head]).toEqual([1, 5, 0, 1]);
    expect([...fishers[0].neuron]).toEqual([1, 2, 1, 0, 1, 1]);
    expect([...fishers[1].neuron]).toEqual([1, 0, 1, 7, 1, 1]);
    expect(zeroed).toEqual({ head: 2, neuron: 4 });
    expect([...a.head]).toEqual([0, 0, 3, 0]);
  });
});

describe('scale invariance and the zero rule', () => {
  // Layer 0 heads: a = [0, 2], b = [0, 6]: head 0 is 0 in every model.
  const pair = (factor: number): MaskFisherValues[] =>
    [
      [0, 2],
      [0, 6],
    ].map((h) => ({
      layout,
      head: Float32Array.from([...h, 1, 1].map((v) => v * factor)),
      neuron: Float32Array.from([1, 1, 1, 1, 1, 1].map((v) => v * factor)),
    }));
  /** model b's share of the value weight (paper: layer-0 head mean) after the zero rule */
  const shareOfB = (factor: number): number => {
    const [a, b] = applyZeroRule(pair(factor)).fishers;
    const w = { kind: 'head-mean', layer: 0 } as const;
    const wa = tensorWeight(a, w, [4, 4]);
    const wb = tensorWeight(b, w, [4, 4]);
    if (wa.kind !== 'scalar' || wb.kind !== 'scalar') throw new Error('expected scalar weights');
    return wb.value / (wa.value + wb.value);
  };

  it('is not scale-free: the zeroed entry becomes 1 whatever the scale of the others', () => {
    // factor 1: a (1 + 2) / 2 = 1.5, b (1 + 6) / 2 = 3.5 -> 3.5 / 5 = 0.7
    expect(shareOfB(1)).toBeCloseTo(0.7, 12);
    // factor 10: a (1 + 20) / 2 = 10.5, b (1 + 60) / 2 = 30.5 -> 30.5 / 41
    expect(shareOfB(10)).toBeCloseTo(30.5 / 41, 12);
  });

  it('without an entry 0 in every model, every weight scales with the Fisher (shares unchanged)', () => {
    const [a, b] = pair(1);
    a.head[0] = 1; // head 0 no longer 0 everywhere: a (1 + 2) / 2 = 1.5, b (0 + 6) / 2 = 3
    const scaled = [a, b].map((f) => ({
      ...f,
      head: f.head.map((v) => v * 10),
      neuron: f.neuron.map((v) => v * 10),
    }));
    for (const [fa, fb] of [[a, b], scaled]) {
      const z = applyZeroRule([fa, fb]);
      expect(z.zeroed).toEqual({ head: 0, neuron: 0 });
      const wa = tensorWeight(z.fishers[0], { kind: 'head-mean', layer: 0 }, [4]);
      const wb = tensorWeight(z.fishers[1], { kind: 'head-mean', layer: 0 }, [4]);
      if (wa.kind !== 'scalar' || wb.kind !== 'scalar') throw new Error('expected scalar weights');
      expect(wb.value / (wa.value + wb.value)).toBeCloseTo(2 / 3, 6);
    }
  });
});

describe('weightedAverage', () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const y = Float32Array.from([7, 8, 9, 10, 11, 12]);
  const shape = [2, 3];

  it('equal weights give the plain average', () => {
    const { merged, shareSums } = weightedAverage(
      [x, y],
      [
        { kind: 'scalar', value: 2.5 },
        { kind: 'scalar', value: 2.5 },
      ],
      [1, 1],
      shape,
    );
    expect([...merged]).toEqual([4, 5, 6, 7, 8, 9]);
    shareSums.forEach((s) => expect(s).toBeCloseTo(3, 12));
  });

  it('row weights, column weights and lambdas combine as sum lambda W theta / sum lambda W', () => {
    // model x: rows [1, 3]; model y: columns [1, 0, 2]; lambdas 2 and 1.
    const { merged } = weightedAverage(
      [x, y],
      [
        { kind: 'axis', axis: 0, values: Float32Array.from([1, 3]) },
        { kind: 'axis', axis: 1, values: Float32Array.from([1, 0, 2]) },
      ],
      [2, 1],
      shape,
    );
    // entry (r, c): wx = 2 * rows[r], wy = cols[c]
    const expected = [
      (2 * 1 + 1 * 7) / 3, // (0,0): wx 2, wy 1
      (2 * 2 + 0 * 8) / 2, // (0,1): wx 2, wy 0
      (2 * 3 + 2 * 9) / 4, // (0,2): wx 2, wy 2
      (6 * 4 + 1 * 10) / 7, // (1,0): wx 6, wy 1
      (6 * 5 + 0 * 11) / 6,
      (6 * 6 + 2 * 12) / 8,
    ];
    merged.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('full (elementwise) weights', () => {
    const { merged } = weightedAverage(
      [x, y],
      [
        { kind: 'full', values: Float32Array.from([1, 0, 1, 3, 1, 1]) },
        { kind: 'full', values: Float32Array.from([1, 1, 0, 1, 3, 1]) },
      ],
      [1, 1],
      shape,
    );
    expect([...merged]).toEqual([4, 8, 3, 5.5, 9.5, 9]);
  });

  it('a zero total weight is an FmnError naming the tensor', () => {
    expect(() =>
      weightedAverage(
        [x, y],
        [
          { kind: 'scalar', value: 0 },
          { kind: 'scalar', value: 0 },
        ],
        [1, 1],
        shape,
        'layer.0.q.weight',
      ),
    ).toThrow(/layer\.0\.q\.weight/);
  });

  it('scaling every weight by one factor changes nothing', () => {
    const w = (s: number) =>
      [
        { kind: 'axis', axis: 0, values: Float32Array.from([1 * s, 3 * s]) },
        { kind: 'scalar', value: 0.7 * s },
      ] as const;
    const a = weightedAverage([x, y], w(1), [1, 1], shape).merged;
    const b = weightedAverage([x, y], w(1000), [1, 1], shape).merged;
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
  });
});

it('the fake adapter covers every shape of the fake model', () => {
  expect(fakeShapes(DIMS).length).toBe(3 + 2 * 16 + 2 + 2);
});
