import { describe, expect, it } from 'vitest';
import { gramTargets } from '@fmn/core';
import { FLAVOURS, randomEncoder } from '@fmn/testkit';
import { CLASS_PROBS, CLASS_WEIGHTS, maskGradientGraph, squaredGradientGraph } from './encoder-graph.js';
import { gramGraph } from './gram-graph.js';

describe.each(FLAVOURS)('%s graphs for the model convention and Gram matrices', (flavour) => {
  const model = randomEncoder(flavour, { seed: 2, numLabels: 3 });

  it('the Gram graph has one [in, in] output per distinct Linear input, query/key/value sharing one', () => {
    const { graph, outputs } = gramGraph(model);
    const targets = gramTargets(model);
    expect([...outputs.keys()].sort()).toEqual(targets.map((t) => t.name).sort());
    for (const l of model.layers) {
      expect(outputs.get(l.key.weight.name)).toBe(outputs.get(l.query.weight.name));
      expect(outputs.get(l.value.weight.name)).toBe(outputs.get(l.query.weight.name));
      expect(outputs.get(l.attentionOutput.weight.name)).not.toBe(outputs.get(l.query.weight.name));
    }
    const byName = new Map(graph.outputs.map((v) => [v.name, v]));
    for (const t of targets) expect(byName.get(outputs.get(t.name)!)!.shape).toEqual([t.inDim, t.inDim]);
    expect(graph.outputs.length).toBe(new Set(outputs.values()).size);
  });

  it('the model objective takes class weights and gives class probabilities, for per-example masks only', () => {
    for (const g of [
      maskGradientGraph(model, 'example', 'model'),
      squaredGradientGraph(model, 'model').graph,
    ]) {
      expect(g.inputs.map((v) => v.name)).toContain(CLASS_WEIGHTS);
      expect(g.inputs.map((v) => v.name)).not.toContain('labels');
      expect(g.outputs.map((v) => v.name)).toContain(CLASS_PROBS);
    }
    expect(() => maskGradientGraph(model, 'shared', 'model')).toThrow('per-example masks');
    // regression: no probabilities (every weight is 1)
    const reg = randomEncoder(flavour, { seed: 2, numLabels: 1 });
    expect(maskGradientGraph(reg, 'example', 'model').outputs.map((v) => v.name)).not.toContain(CLASS_PROBS);
  });
});
