import { describe, expect, it } from 'vitest';
import { encoderParams } from '@fmn/core';
import { FLAVOURS, randomEncoder } from '@fmn/testkit';
import {
  BATCH,
  HEAD_GRAD,
  HEAD_MASK,
  NEURON_GRAD,
  NEURON_MASK,
  SEQ,
  maskGradientGraph,
  squaredGradientGraph,
} from './encoder-graph.js';
import type { Graph, Value } from './graph.js';
import { externalDataOf } from './external-data.js';

/** Values computed from graph inputs (not constant-foldable weights). */
function dataDependent(g: Graph): Set<number> {
  const live = new Set(g.inputs.map((v) => v.id));
  for (const n of g.nodes)
    if (n.inputs.some((i) => i && live.has(i.id))) for (const o of n.outputs) live.add(o.id);
  return live;
}

const shapeOf = (v: Value) => v.shape.join('x');

/** Data-dependent float tensors shaped like a parameter of the model. */
function paramShaped(g: Graph, model: ReturnType<typeof randomEncoder>): string[] {
  const paramShapes = new Set(encoderParams(model).map((p) => p.shape.join('x')));
  const live = dataDependent(g);
  return g.nodes
    .flatMap((n) => n.outputs)
    .filter((o) => o.dtype === 'float32' && live.has(o.id) && paramShapes.has(shapeOf(o)))
    .map((o) => `${o.name} [${shapeOf(o)}]`);
}

describe('mask-gradient graph', () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: mask inputs and gradient outputs [L,H]/[L,I] or [B,L,H]/[B,L,I]; no parameter gradient is computed`, () => {
      const model = randomEncoder(flavour, { numLayers: 3, numLabels: 5 });
      const { numHeads: H, intermediate: I } = model.dims;
      const L = 3;
      for (const mode of ['shared', 'example'] as const) {
        const g = maskGradientGraph(model, mode);
        const lead = mode === 'example' ? [BATCH] : [];
        const byName = (list: Value[], name: string) => list.find((v) => v.name === name)?.shape;
        expect(byName(g.inputs, HEAD_MASK)).toEqual([...lead, L, H]);
        expect(byName(g.inputs, NEURON_MASK)).toEqual([...lead, L, I]);
        expect(byName(g.outputs, HEAD_GRAD)).toEqual([...lead, L, H]);
        expect(byName(g.outputs, NEURON_GRAD)).toEqual([...lead, L, I]);
        expect(g.inputs.find((v) => v.name === 'input_ids')?.shape).toEqual([BATCH, SEQ]);
        // a parameter gradient would be a data-dependent tensor of a parameter's (static) shape
        expect(paramShaped(g, model)).toEqual([]);
        expect(g.nodes.some((n) => n.op === 'ScatterND')).toBe(false);
      }
    });
  }
  it('the parameter-gradient detector above does find the gradients of the full-Fisher graph', () => {
    const model = randomEncoder('bert', { numLayers: 3, numLabels: 5 });
    expect(paramShaped(squaredGradientGraph(model).graph, model).length).toBeGreaterThanOrEqual(
      encoderParams(model).length,
    );
  });
});

describe('weights outside the protobuf', () => {
  it('every parameter is in-memory external data (a view of its own bytes, no copy); the protobuf holds the graph only', () => {
    const model = randomEncoder('electra', {
      numLayers: 2,
      hidden: 128,
      numHeads: 4,
      intermediate: 512,
      vocabSize: 3000,
    });
    const { bytes, files } = externalDataOf(maskGradientGraph(model, 'example'));
    const params = encoderParams(model);
    const weightBytes = params.reduce((n, p) => n + p.data.byteLength, 0);
    expect(files.reduce((n, f) => n + f.data.byteLength, 0)).toBe(weightBytes);
    const buffers = new Set(params.map((p) => p.data.buffer));
    for (const f of files) expect(buffers.has(f.data.buffer as ArrayBuffer)).toBe(true);
    // a few hundred bytes per node, independent of the weights' size
    expect(bytes.length).toBeLessThan(weightBytes / 20);
  });
});
