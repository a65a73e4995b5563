/**
 * lambda_j = 0 for the weighted averages (what the coefficient search's grid ends need, docs/method.md
 * §5.6): the model is left out of the encoder's merge, its rules run over the other models, and
 * every model keeps its own head.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyZeroRule, type MaskFisherValues } from './weights.js';
import { regmeanSolve } from './methods/regmean.js';
import { encoderNames, expectFmnError, maskFisher, model, readOut, run } from '../test/harness.js';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('lambda 0 leaves a model out', () => {
  it("average with lambdas (0, 1) is the second model's encoder; each output keeps its own head", async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    const { out, report } = await run({
      method: 'average',
      models: [
        { dir: a.dir, lambda: 0 },
        { dir: b.dir, lambda: 1 },
      ],
    });
    expect(report.lambdas).toEqual([0, 1]);
    const outA = await readOut(join(out, 'a'));
    for (const name of encoderNames)
      expect([...outA.get(name)!.values], name).toEqual([...b.values.get(name)!]);
    expect([...outA.get('head.bias')!.values]).toEqual([...a.values.get('head.bias')!]);
  });

  it('fisher-nodes: the zero rule runs over the models with lambda > 0 (no 0/0 where only the left-out model has Fisher)', async () => {
    const a = await model('a', { seed: 1 });
    const b = await model('b', { seed: 2 });
    // head (0, 1) and neuron (0, 0) are 0 for b only: with a left out they take weight 1, so b's values
    const fa = await maskFisher(
      'fa',
      [
        [1, 2],
        [3, 4],
      ],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    const fb = await maskFisher(
      'fb',
      [
        [5, 0],
        [7, 8],
      ],
      [
        [0, 1, 1],
        [1, 1, 1],
      ],
    );
    const { out, report } = await run({
      method: 'fisher-nodes',
      models: [
        { dir: a.dir, fisher: fa, lambda: 0 },
        { dir: b.dir, fisher: fb, lambda: 1 },
      ],
    });
    expect(report.zeroRule).toEqual({ head: 1, neuron: 1 });
    const outB = await readOut(join(out, 'b'));
    for (const name of encoderNames)
      expect([...outB.get(name)!.values], name).toEqual([...b.values.get(name)!]);
  });

  it('applyZeroRule with `among`: only the marked models count', () => {
    const layout = { layers: 1, heads: 2, headSize: 1, intermediate: 2 };
    const a: MaskFisherValues = { layout, head: f32(1, 0), neuron: f32(0, 3) };
    const b: MaskFisherValues = { layout, head: f32(0, 0), neuron: f32(0, 2) };
    expect(applyZeroRule([a, b]).zeroed).toEqual({ head: 1, neuron: 1 });
    const { fishers, zeroed } = applyZeroRule([a, b], [false, true]);
    expect(zeroed).toEqual({ head: 2, neuron: 1 });
    expect([...fishers[1].head]).toEqual([1, 1]);
    expect([...fishers[1].neuron]).toEqual([1, 2]);
  });

  it("regmean: a feature only the left-out model sees takes the others' plain mean", () => {
    // model 1 sees feature 0 only, model 2 feature 1 only; with lambda (0, 1): W* = W2
    const w = regmeanSolve([f32(1, 0), f32(3, 5)], [f32(2, 0, 0, 0), f32(0, 0, 0, 4)], [0, 1], 1, 2, 0.9);
    expect([...w]).toEqual([3, 5]);
    // with lambdas (1, 1) each feature comes from the model that sees it
    expect([
      ...regmeanSolve([f32(1, 0), f32(3, 5)], [f32(2, 0, 0, 0), f32(0, 0, 0, 4)], [1, 1], 1, 2, 0.9),
    ]).toEqual([1, 5]);
  });

  it('every lambda 0, or a negative one, is an FmnError', async () => {
    const a = await model('a');
    const b = await model('b');
    await expectFmnError(
      run({
        method: 'average',
        models: [
          { dir: a.dir, lambda: 0 },
          { dir: b.dir, lambda: 0 },
        ],
      }),
      /at least one positive lambda/,
    );
    await expectFmnError(
      run({ method: 'average', models: [{ dir: a.dir, lambda: -1 }, { dir: b.dir }] }),
      /must be positive \(or 0: left out\)/,
    );
  });
});
