import { describe, expect, it } from 'vitest';
import { encoderParams } from '@fmn/core';
import { FLAVOURS, randomEncoder, withMaskedLmHead } from '@fmn/testkit';
import { MLM_LABELS, MLM_POSITIONS, TRAIN_LOSS, trainingGraph } from './training-graph.js';

describe.each(FLAVOURS)('%s training graphs', (flavour) => {
  it('classification: every parameter is an input with its shape and has a gradient output of that shape', () => {
    const model = randomEncoder(flavour, { seed: 2, numLabels: 3 });
    const { graph, params, head } = trainingGraph(model);
    expect(head).toBe('classification');
    const inputs = new Map(graph.inputs.map((v) => [v.name, v]));
    const outputs = new Map(graph.outputs.map((v) => [v.name, v]));
    expect(outputs.get(TRAIN_LOSS)!.shape).toEqual([]);
    const ps = encoderParams(model);
    expect(params.map((p) => p.name)).toEqual(ps.map((p) => p.name));
    ps.forEach((p, k) => {
      expect(inputs.get(params[k].input)!.shape).toEqual(p.shape);
      expect(outputs.get(params[k].grad!)!.shape).toEqual(p.shape);
    });
    // the weights are not baked into the graph
    expect(graph.initializers.filter((v) => v.init!.external)).toEqual([]);
    expect(inputs.has('labels')).toBe(true);
  });

  it('masked-LM: the tied decoder is the word-embedding input, once', () => {
    const model = withMaskedLmHead(randomEncoder(flavour, { seed: 2, numLabels: 0 }), 3);
    const { graph, params, head } = trainingGraph(model);
    expect(head).toBe('masked-lm');
    const names = graph.inputs.map((v) => v.name);
    expect(names).toContain(MLM_POSITIONS);
    expect(names).toContain(MLM_LABELS);
    expect(names.filter((n) => n === model.embeddings.word.name)).toHaveLength(1);
    expect(params.map((p) => p.name)).toEqual(encoderParams(model).map((p) => p.name));
    expect(params.every((p) => p.grad !== undefined)).toBe(true);
  });

  it('without gradients: only the loss', () => {
    const model = randomEncoder(flavour, { seed: 2, numLabels: 1 });
    const { graph, params } = trainingGraph(model, { gradients: false });
    expect(graph.outputs.map((v) => v.name)).toEqual([TRAIN_LOSS]);
    expect(params.every((p) => p.grad === undefined)).toBe(true);
  });
});
