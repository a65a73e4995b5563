/**
 * The batched full Fisher (one pass per chunk, per-example-squared-gradient graph) against the
 * one-example-at-a-time path on the four architectures (every parameter, 1e-5 of each tensor's
 * largest entry), and against finite differences of the float64 reference for a few entries.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encoderParams, type ModelSession } from '@fmn/core';
import {
  FLAVOURS,
  expectClose,
  randomBatch,
  randomEncoder,
  referenceParamGradient,
  sliceBatch,
} from '@fmn/testkit';
import { OnnxRuntimeBackend } from './session.js';

describe.each(FLAVOURS)('%s: batched full Fisher', (flavour) => {
  const model = randomEncoder(flavour, { seed: 31, numLayers: 2, hidden: 16, numHeads: 2, intermediate: 24 });
  // 5 ragged examples of 7 tokens, 2 examples per chunk (14 tokens)
  const batch = randomBatch(model, { seed: 8, size: 5, seqLen: 7 });
  const sessions: ModelSession[] = [];
  afterAll(async () => {
    for (const s of sessions) await s.dispose();
  });

  it('equals the per-example path for every parameter (1e-5 of the tensor max)', async () => {
    // plus a floor of 1e-9 of the largest entry of any tensor: tensors whose exact value is zero
    // (a key bias cannot change a softmax) hold only float32 rounding noise in both paths
    const batched = await new OnnxRuntimeBackend({ intraOpNumThreads: 1, maxRunTokens: 14 }).load(model);
    const single = await new OnnxRuntimeBackend({ intraOpNumThreads: 1, fullFisher: 'per-example' }).load(
      model,
    );
    sessions.push(batched, single);
    const a = await batched.squaredParamGradients!(batch);
    const b = await single.squaredParamGradients!(batch);
    expect([...a.keys()]).toEqual([...b.keys()]);
    const maxOf = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const floor = 1e-9 * Math.max(...[...b.values()].map(maxOf));
    for (const [name, expected] of b) {
      expectClose(a.get(name)!, expected, 1e-5 * maxOf(expected) + floor, 0, `${flavour} ${name}`);
    }
  });

  it('matches finite differences of the float64 reference (sum over examples of squared gradients)', async () => {
    const session = await new OnnxRuntimeBackend({ intraOpNumThreads: 1, maxRunTokens: 14 }).load(model);
    sessions.push(session);
    const fisher = await session.squaredParamGradients!(batch);
    const params = encoderParams(model);
    // the largest entry of a few kinds of tensor: embeddings (word, position), a norm, a query, the head
    const picks = params
      .filter((p, k) => k < 3 || /query|classifier|out_proj|LayerNorm\.weight/.test(p.name))
      .slice(0, 8);
    expect(picks.length).toBeGreaterThan(3);
    for (const p of picks) {
      const f = fisher.get(p.name)!;
      let idx = 0;
      for (let j = 1; j < f.length; j++) if (f[j] > f[idx]) idx = j;
      let ref = 0;
      for (let i = 0; i < batch.size; i++)
        ref += referenceParamGradient(model, sliceBatch(batch, i), p, idx) ** 2;
      expect(f[idx], `${flavour} ${p.name}[${idx}]`).toBeGreaterThan(0);
      expect(Math.abs(f[idx] - ref) / ref, `${flavour} ${p.name}[${idx}]: ${f[idx]} vs ${ref}`).toBeLessThan(
        2e-3,
      );
    }
  });
});
