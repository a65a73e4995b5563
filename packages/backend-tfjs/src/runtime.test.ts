import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FmnError, listBackends, onesMasks, resolveBackend } from '@fmn/core';
import { randomBatch, randomEncoder, referenceLogits, Rng } from '@fmn/testkit';
import { createTfjsBackend, initRuntime } from './index.js';

const nodeFailure = await initRuntime('node').then(
  () => undefined,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

describe('runtime resolution', () => {
  it('importing the package registers tfjs-node, tfjs-wasm and tfjs-cpu by priority', () => {
    const tfjs = listBackends().filter((b) => b.name.startsWith('tfjs'));
    expect(tfjs).toEqual([
      { name: 'tfjs-node', priority: 30 },
      { name: 'tfjs-wasm', priority: 20 },
      { name: 'tfjs-cpu', priority: 10 },
    ]);
  });

  it.runIf(nodeFailure !== undefined)(
    `picks wasm when tfjs-node fails, and says why (here: ${nodeFailure})`,
    async () => {
      const { backend, failures } = await resolveBackend('tfjs');
      expect(backend.name).toBe('tfjs-wasm');
      expect(backend.runtime).toMatch(/^tfjs 4\.22\.0 wasm \(SIMD, single-threaded\)$/);
      expect(failures).toHaveLength(1);
      expect(failures[0].name).toBe('tfjs-node');
      expect(failures[0].reason).toContain('@tensorflow/tfjs-node does not load');
      // the native binding is what is missing on this machine
      expect(failures[0].reason).toMatch(/tfjs_binding\.node/);
    },
  );

  it.runIf(nodeFailure === undefined)(
    `picks tfjs-node when it loads${nodeFailure === undefined ? '' : ` (skipped: ${nodeFailure})`}`,
    async () => {
      const { backend } = await resolveBackend('tfjs');
      expect(backend.name).toBe('tfjs-node');
    },
  );

  it('a failing tfjs-node import is reported with its reason', async () => {
    const importer = () =>
      Promise.reject(new Error('libtensorflow.so: cannot open shared object file\nstack...'));
    await expect(initRuntime('node', importer)).rejects.toThrow(
      '@tensorflow/tfjs-node does not load: libtensorflow.so: cannot open shared object file',
    );
    const loadsNothing = () => Promise.resolve({});
    if (tf.findBackendFactory('tensorflow') === null) {
      await expect(initRuntime('node', loadsNothing)).rejects.toThrow(/registered no "tensorflow" backend/);
    }
  });

  it('the cpu runtime is reported as such', async () => {
    const b = await createTfjsBackend('cpu');
    expect(b.name).toBe('tfjs-cpu');
    expect(b.runtime).toBe('tfjs 4.22.0 cpu (plain JavaScript)');
  });
});

describe('sessions survive the global tfjs backend switching', () => {
  it('wasm and cpu sessions interleaved with tf.setBackend calls agree with the reference', async () => {
    const model = randomEncoder('bert', { seed: 4, numLabels: 2 });
    const batch = randomBatch(model, { seed: 8, size: 2, seqLen: 5 });
    const expected = referenceLogits(model, batch);
    const wasm = await (await createTfjsBackend('wasm')).load(model);
    const cpu = await (await createTfjsBackend('cpu')).load(model);
    for (let i = 0; i < 3; i++) {
      await tf.setBackend(i % 2 ? 'wasm' : 'cpu');
      const a = await wasm.logits(batch);
      expect(tf.getBackend()).toBe('wasm');
      const b = await cpu.logits(batch);
      expect(tf.getBackend()).toBe('cpu');
      for (const got of [a, b]) got.forEach((v, k) => expect(Math.abs(v - expected[k])).toBeLessThan(1e-4));
    }
    wasm.dispose();
    cpu.dispose();
  });
});

describe('bad input', async () => {
  const model = randomEncoder('distilbert', { seed: 1, numLabels: 3 });
  const s = await (await createTfjsBackend('wasm')).load(model);
  const batch = randomBatch(model, { seed: 2, size: 2, seqLen: 4 });

  it('a token id outside the vocabulary is an FmnError naming it', async () => {
    const ids = Int32Array.from(batch.inputIds);
    ids[3] = 40;
    const err = await s.logits({ ...batch, inputIds: ids }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FmnError);
    expect((err as Error).message).toBe(
      'invalid batch: token id 40 at position 3 is outside the vocabulary (size 40)',
    );
  });

  it('masks of the wrong size and a missing label are FmnErrors', async () => {
    const wrong = { head: new Float32Array(3), neuron: new Float32Array(5) };
    await expect(s.maskGradients(batch, { convention: 'batch', masks: wrong })).rejects.toThrow(FmnError);
    await expect(
      s.maskGradients(batch, { convention: 'example', masks: onesMasks(s.layout) }),
    ).rejects.toThrow(/example convention needs head \[16\] and neuron \[96\]/);
    await expect(s.loss({ ...batch, labels: Float32Array.of(0, 3) })).rejects.toThrow(
      'invalid batch: label 3 is not a class index in 0..2 (example 1)',
    );
  });

  it('a disposed session says so', async () => {
    const t = await (await createTfjsBackend('cpu')).load(model);
    t.dispose();
    await expect(t.logits(batch)).rejects.toThrow('the model session was disposed');
  });
});

describe('the wasm Slice kernel replacement (reads the heap in place)', () => {
  it('equals slicing on the host, for contiguous and strided slices of every rank and dtype', async () => {
    await createTfjsBackend('wasm');
    expect(tf.getKernel('Slice', 'wasm')).toHaveProperty('fmnHeapSlice', true);
    const rng = new Rng(5);
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [4]],
      [
        [6, 5],
        [2, 0],
        [3, 5],
      ],
      [
        [6, 5],
        [1, 2],
        [4, 2],
      ],
      [
        [4, 6, 3, 5],
        [0, 2, 0, 0],
        [4, 3, 3, 5],
      ],
      [
        [4, 6, 3, 5],
        [1, 0, 1, 2],
        [2, 6, 2, 3],
      ],
      [
        [2, 3, 4, 5, 2],
        [1, 1, 0, 2, 0],
        [1, 2, 4, 3, 2],
      ],
      [
        [3, 4],
        [0, 0],
        [0, 4],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, () => rng.int(1000));
      // the expected slice, computed on the host from the index arithmetic
      const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
      const expected: number[] = [];
      const count = size.reduce((a, b) => a * b, 1);
      for (let o = 0; o < count; o++) {
        let rest = o;
        let off = 0;
        for (let a = shape.length - 1; a >= 0; a--) {
          off += (begin[a] + (rest % size[a])) * strides[a];
          rest = Math.floor(rest / size[a]);
        }
        expected.push(values[off]);
      }
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const x = tf.tensor(dtype === 'bool' ? values.map((v) => v % 2) : values, shape, dtype);
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        expect(Array.from(y.dataSync()), `${dtype} [${shape}] from [${begin}] size [${size}]`).toEqual(
          dtype === 'bool' ? expected.map((v) => v % 2) : expected,
        );
        tf.dispose([x, y]);
      }
    }
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('the wasm Identity kernel replacement (shares the buffer)', () => {
  it('a clone keeps its values after the original is disposed, and both release their memory', async () => {
    await createTfjsBackend('wasm');
    expect(tf.getKernel('Identity', 'wasm')).toHaveProperty('fmnShared', true);
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });
});
