import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isFmnError, listBackends, onesMasks, resolveBackend, type ModelSession } from '@fmn/core';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { OnnxRuntimeBackend, optionsFromEnv, sessionOptions } from './index.js';

describe('registration and options', () => {
  it('registers "onnxruntime" with priority 15 on import, and resolves it', async () => {
    expect(listBackends()).toContainEqual({ name: 'onnxruntime', priority: 15 });
    const { backend } = await resolveBackend('onnxruntime');
    expect(backend.name).toBe('onnxruntime');
    expect(backend.runtime).toMatch(/^onnxruntime-node 1\.\d+\.\d+ cpu \(\d+ threads\)$/);
  });

  it('defaults: cpu, one intra-op thread per core, spinning off, all graph optimisations', () => {
    const o = sessionOptions({});
    expect(o.executionProviders).toEqual(['cpu']);
    expect(o.intraOpNumThreads).toBe(availableParallelism());
    expect(o.graphOptimizationLevel).toBe('all');
    // the memory pattern's planned block sat beside the arena's chunks: twice the peak memory
    expect(o.enableMemPattern).toBe(false);
    expect(o.extra).toEqual({
      session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
    });
    const c = sessionOptions({ executionProvider: 'cuda', intraOpNumThreads: 3, allowSpinning: true });
    expect(c.executionProviders).toEqual(['cuda']);
    expect(c.intraOpNumThreads).toBe(3);
    expect(c.extra).toEqual({
      session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '1' } },
    });
  });

  it('options from FMN_ORT_EXECUTION_PROVIDER / FMN_ORT_THREADS, with clear errors', () => {
    expect(optionsFromEnv({})).toEqual({});
    expect(optionsFromEnv({ FMN_ORT_EXECUTION_PROVIDER: 'cuda', FMN_ORT_THREADS: '4' })).toEqual({
      executionProvider: 'cuda',
      intraOpNumThreads: 4,
    });
    expect(optionsFromEnv({ FMN_ORT_MAX_RUN_TOKENS: '4096' })).toEqual({ maxRunTokens: 4096 });
    expect(() => optionsFromEnv({ FMN_ORT_MAX_RUN_TOKENS: '0' })).toThrow(
      /FMN_ORT_MAX_RUN_TOKENS="0" is not a positive integer/,
    );
    expect(() => optionsFromEnv({ FMN_ORT_THREADS: 'two' })).toThrow(
      /FMN_ORT_THREADS="two" is not a positive integer/,
    );
    expect(() => optionsFromEnv({ FMN_ORT_EXECUTION_PROVIDER: 'cuda; rm' })).toThrow(
      /is not an execution provider name/,
    );
  });

  it('refuses a model without a classification head', async () => {
    await expect(new OnnxRuntimeBackend().load(randomEncoder('bert', { numLabels: 0 }))).rejects.toThrow(
      /no classification head/,
    );
  });
});

describe('sessions', () => {
  it('one ONNX Runtime session per graph kind, reused across batches of other sizes and lengths (dynamic axes)', async () => {
    const model = randomEncoder('bert', { seed: 4 });
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const session = await new OnnxRuntimeBackend({ intraOpNumThreads: 1 }).load(model);
    try {
      const shapes: [number, number][] = [
        [3, 7],
        [1, 12],
        [5, 4],
      ];
      for (const [size, seqLen] of shapes) {
        const b = randomBatch(model, { seed: size, size, seqLen });
        expect((await session.logits(b)).length).toBe(size * 3);
        for (const convention of ['batch', 'example'] as const) {
          const g = await session.maskGradients(b, { convention });
          expect(g.head.length).toBe(
            (convention === 'example' ? size : 1) * session.layout.layers * session.layout.heads,
          );
        }
      }
      expect(create).toHaveBeenCalledTimes(3);
      // masks given as views into a larger buffer (non-zero byte offset) are read correctly
      const b = randomBatch(model, { seed: 9, size: 2, seqLen: 6 });
      const { layers: L, heads: H, intermediate: I } = session.layout;
      const big = Float32Array.from({ length: 5 + 2 * L * (H + I) }, (_, k) => 0.5 + ((k * 7) % 11) / 10);
      const views = { head: big.subarray(5, 5 + 2 * L * H), neuron: big.subarray(5 + 2 * L * H) };
      const copies = { head: Float32Array.from(views.head), neuron: Float32Array.from(views.neuron) };
      const fromViews = await session.maskGradients(b, { convention: 'example', masks: views });
      const fromCopies = await session.maskGradients(b, { convention: 'example', masks: copies });
      expect(Array.from(fromViews.head)).toEqual(Array.from(fromCopies.head));
      expect(Array.from(fromViews.neuron)).toEqual(Array.from(fromCopies.neuron));
      expect(await session.loss(b, views)).toBe(await session.loss(b, copies));
    } finally {
      create.mockRestore();
      await session.dispose();
    }
  });
});

describe('bad input gets a clear FmnError', () => {
  const model = randomEncoder('roberta', { seed: 3 });
  let session: ModelSession;
  beforeAll(async () => {
    session = await new OnnxRuntimeBackend({ intraOpNumThreads: 1 }).load(model);
  });
  afterAll(async () => {
    await session.dispose();
  });
  const expectFmn = async (p: Promise<unknown>, message: RegExp) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isFmnError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
  };

  it('token ids outside the vocabulary', async () => {
    const b = randomBatch(model, { seed: 1 });
    const ids = Int32Array.from(b.inputIds);
    ids[4] = model.dims.vocabSize;
    await expectFmn(
      session.logits({ ...b, inputIds: ids }),
      /token id 40 at position 4 is outside the vocabulary/,
    );
  });
  it('labels that are not class indices, or missing', async () => {
    const b = randomBatch(model, { seed: 1 });
    await expectFmn(
      session.loss({ ...b, labels: Float32Array.from([0, 3, 1]) }),
      /label 3 is not a class index in 0\.\.2/,
    );
    await expectFmn(
      session.maskGradients({ ...b, labels: undefined }, { convention: 'batch' }),
      /needs 3 labels/,
    );
  });
  it('masks of the wrong size, and sequences longer than the position table', async () => {
    const b = randomBatch(model, { seed: 1 });
    await expectFmn(
      session.maskGradients(b, { convention: 'example', masks: onesMasks(session.layout) }),
      /the example convention needs head \[24\] and neuron \[144\] values, got 8 and 48/,
    );
    const long = randomBatch(model, { seed: 1, seqLen: model.dims.maxPositions + 1 });
    await expectFmn(session.logits(long), /sequence length 41 exceeds the model's 40 positions/);
    // RoBERTa position ids start after the pad id: 39 tokens need id 40
    const full = randomBatch(model, { seed: 1, seqLen: 39, ragged: false });
    await expectFmn(
      session.logits(full),
      /example 0 has 39 tokens: position ids go up to 40, the model has 40 positions/,
    );
    expect((await session.logits(randomBatch(model, { seed: 1, seqLen: 38, ragged: false }))).length).toBe(9);
  });
});
