/** Bad inputs and options: each an FmnError naming the problem, no output. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFakeFullFisher, type FakeModelOptions } from '../test/fake.js';
import { expectFmnError, HEAD_A, maskFisher, model, NEURON_A, root, run } from '../test/harness.js';

describe('errors', () => {
  const two = async (oa: FakeModelOptions = {}, ob: FakeModelOptions = {}) => [
    { dir: (await model('a', oa)).dir },
    { dir: (await model('b', ob)).dir },
  ];

  it('fewer than two models', async () => {
    await expectFmnError(
      run({ method: 'average', models: [{ dir: (await model('a')).dir }] }),
      /at least two models/,
    );
  });

  it('inputs of different architectures', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { config: { model_type: 'fake2' } }) }),
      /different architectures/,
    );
  });

  it('inputs of different shapes name the tensor', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { shapes: { 'layer.1.ffn1.bias': [4] } }) }),
      /different shapes: tensor "layer\.1\.ffn1\.bias" is \[4\]/,
    );
  });

  it('a tensor missing from one input is named', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { omit: ['pooler.bias'] }) }),
      /"pooler\.bias"/,
    );
  });

  it('inputs with different vocab_size', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { config: { vocab_size: 6 } }) }),
      /vocab_size 5 .* 6/,
    );
  });

  it('inputs with different tokenizer vocabularies', async () => {
    await expectFmnError(
      run({ method: 'average', models: await two({}, { vocabTxt: '[PAD]\n[CLS]\n[SEP]\na\nc\n' }) }),
      /tokenizer vocabulary \(vocab\.txt\)/,
    );
  });

  it("a mask Fisher whose layout differs from its model's", async () => {
    const [a, b] = await two();
    const bad = await maskFisher(
      'bad',
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
      ],
    );
    const e = await expectFmnError(
      run({
        method: 'fisher-nodes',
        models: [
          { ...a, fisher: await maskFisher('ok', HEAD_A, NEURON_A) },
          { ...b, fisher: bad },
        ],
      }),
      /layout \(L=3, H=2, I=3.*differs.*L=2, H=2, I=3/,
    );
    expect(e.message).toContain('bad.fisher.safetensors');
  });

  for (const [what, value, pattern] of [
    ['NaN', NaN, /NaN/],
    ['infinite', Infinity, /infinite/],
    ['negative', -0.5, /negative/],
  ] as const) {
    it(`a mask Fisher with a ${what} value`, async () => {
      const [a, b] = await two();
      const bad = await maskFisher(
        'bad',
        [
          [1, value],
          [1, 1],
        ],
        NEURON_A,
      );
      await expectFmnError(
        run({
          method: 'fisher-nodes',
          models: [
            { ...a, fisher: await maskFisher('ok', HEAD_A, NEURON_A) },
            { ...b, fisher: bad },
          ],
        }),
        pattern,
      );
    });
  }

  it('a full Fisher with a NaN value', async () => {
    const [a, b] = await two();
    const fa = join(root, 'fa.safetensors');
    await writeFakeFullFisher(fa, (name, n) => new Float32Array(n).fill(name === 'layer.0.v.bias' ? NaN : 1));
    await expectFmnError(
      run({
        method: 'fisher',
        models: [
          { ...a, fisher: fa },
          { ...b, fisher: fa },
        ],
      }),
      /"layer\.0\.v\.bias" has NaN/,
    );
  });

  it('a full Fisher file missing a parameter', async () => {
    const [a, b] = await two();
    const fa = join(root, 'fa.safetensors');
    await writeFakeFullFisher(fa, (_, n) => new Float32Array(n).fill(1), { omit: ['layer.1.o.weight'] });
    await expectFmnError(
      run({
        method: 'fisher',
        models: [
          { ...a, fisher: fa },
          { ...b, fisher: fa },
        ],
      }),
      /fa\.safetensors: full Fisher file has no tensor for parameter "layer\.1\.o\.weight"/,
    );
  });

  it('a Fisher method without Fisher files', async () => {
    await expectFmnError(run({ method: 'fisher-nodes', models: await two() }), /needs a Fisher file/);
  });

  it('a method that needs a base without one', async () => {
    for (const method of ['task-arithmetic', 'ties', 'dare'] as const) {
      await expectFmnError(run({ method, models: [{ dir: 'a' }, { dir: 'b' }] }), /needs a pre-trained base/);
    }
  });

  it('a base of another shape', async () => {
    const models = await two();
    const base = await model('base', { shapes: { 'emb.norm.weight': [3] } });
    await expectFmnError(run({ method: 'task-arithmetic', base: base.dir, models }), /"emb\.norm\.weight"/);
  });

  it('bad options: lambda, k, p', async () => {
    const models = await two();
    await expectFmnError(
      run({ method: 'average', models: [models[0], { ...models[1], lambda: -0.5 }] }),
      /must be positive/,
    );
    const base = (await model('base')).dir;
    await expectFmnError(run({ method: 'ties', base, options: { k: 0 }, models }), /top-k/);
    await expectFmnError(run({ method: 'dare', base, options: { p: 1 }, models }), /\[0, 1\)/);
  });
});
