import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import { adapterFor, Checkpoint, encoderParams, f16ToF32, f32ToF16, type EncoderModel } from '@fmn/core';
import { createTfjsBackend } from '@fmn/backend-tfjs';
import { createOnnxRuntimeBackend } from '@fmn/backend-onnxruntime';
import { loadTokenizer } from '@fmn/data';
import { ZOO_ARCHS, zooPath, zooTasks, zooTokenizerFor, type ZooArch } from '@fmn/zoo';
import { buildableArchs } from './archs.js';
import { bertPooler, DEFAULT_SHAPE, initMlmModel, withClassifier, writeZooModel } from './models.js';
import { DEFAULT_PRETRAIN, devBatches, devLogits, mlmBatches, scoreTask } from './train.js';
import { taskVectorRelativeSize } from './task-vector.js';

const TOK_FILES: Record<ZooArch, string[]> = {
  bert: ['tokenizer.json', 'vocab.txt'],
  roberta: ['tokenizer.json', 'vocab.json', 'merges.txt'],
  distilbert: ['tokenizer.json', 'vocab.txt'],
  electra: ['tokenizer.json', 'vocab.txt'],
};

async function open(dir: string): Promise<EncoderModel> {
  const ckpt = await Checkpoint.open(dir);
  try {
    return await adapterFor(ckpt.config).load(ckpt);
  } finally {
    await ckpt.close();
  }
}

/** What fp16 storage does to a float32 value. */
const viaF16 = (x: Float32Array) => Float32Array.from(x, (v) => f16ToF32(f32ToF16(v)));

describe('zoo model files', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fmn-zoo-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const tiny = {
    ...DEFAULT_SHAPE,
    hidden: 16,
    heads: 2,
    intermediate: 24,
    electraEmbedding: 8,
    maxLength: 12,
  };

  it('builds every architecture the zoo ships, from the registered adapters', () => {
    expect(buildableArchs()).toEqual([...ZOO_ARCHS]);
  });

  it.each(buildableArchs())(
    '%s: a fine-tuned and a base checkpoint read back through the adapter, fp16-exact',
    async (arch) => {
      const mlm = initMlmModel(arch, tiny, 60, 'test');
      const clf = withClassifier(mlm, arch, 3, 'test');
      const dir = join(tmp, arch);
      await writeZooModel(join(dir, 'task'), arch, clf, zooTokenizerFor(arch), TOK_FILES[arch], {
        numLabels: 3,
        labels: ['a', 'b', 'c'],
      });
      await writeZooModel(join(dir, 'base'), arch, mlm, zooTokenizerFor(arch), TOK_FILES[arch]);
      const back = await open(join(dir, 'task'));
      expect(back.head?.kind).toBe('classification');
      expect(back.head?.kind === 'classification' && back.head.numLabels).toBe(3);
      const want = encoderParams(clf);
      const got = encoderParams(back);
      expect(got.map((p) => p.name)).toEqual(want.map((p) => p.name));
      want.forEach((p, i) => expect(got[i].data).toEqual(viaF16(p.data)));
      const base = await open(join(dir, 'base'));
      expect(base.head).toBeUndefined();
      const encoderOnly = encoderParams({ ...mlm, head: undefined });
      expect(encoderParams(base).map((p) => p.data)).toEqual(encoderOnly.map((p) => viaF16(p.data)));
      expect(base.dims).toEqual(back.dims);
      // fine-tuning from the base as read back (unprefixed names) writes a proper classifier
      const again = withClassifier(base, arch, 2, 'test2');
      await writeZooModel(join(dir, 'task2'), arch, again, zooTokenizerFor(arch), TOK_FILES[arch], {
        numLabels: 2,
        labels: ['x', 'y'],
      });
      const back2 = await open(join(dir, 'task2'));
      expect(encoderParams(back2).map((p) => p.name)).toEqual(encoderParams(clf).map((p) => p.name));
    },
  );

  it('BERT: the pooler is part of the base and every fine-tuning starts from it', async () => {
    const mlm = initMlmModel('bert', tiny, 60, 'test');
    const pooler = bertPooler(tiny.hidden, 'test');
    const dir = join(tmp, 'bert-pooler');
    await writeZooModel(
      join(dir, 'base'),
      'bert',
      { ...mlm, extras: [pooler.weight, pooler.bias!] },
      zooTokenizerFor('bert'),
      TOK_FILES.bert,
    );
    const base = await open(join(dir, 'base'));
    expect(base.extras?.map((p) => p.name)).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
    const first = (m: EncoderModel) =>
      m.head?.kind === 'classification' ? m.head.steps[0].linear : undefined;
    const a = first(withClassifier(base, 'bert', 2, 'task-a'))!;
    const b = first(withClassifier(base, 'bert', 3, 'task-b'))!;
    expect(a.weight.name).toBe('bert.pooler.dense.weight');
    expect(a.weight.data).toEqual(viaF16(pooler.weight.data));
    expect(b.weight.data).toEqual(a.weight.data);
    expect(b.weight.data).not.toBe(a.weight.data); // a copy: training one task does not move another's start
  });

  it('masked-LM batches select about 15% of the ordinary tokens and never a special token', async () => {
    const tok = await loadTokenizer(zooTokenizerFor('bert'), { model_type: 'bert' });
    const lines = [
      'a contact on an electrical device at which electric current enters or leaves',
      'travel back and forth regularly',
    ];
    const s = { ...DEFAULT_PRETRAIN, steps: 40, batchSize: 8 };
    const batches = mlmBatches(lines, tok, 4, 5000, s, 32, 'test');
    expect(batches).toHaveLength(40);
    let chosen = 0;
    let ordinary = 0;
    for (const b of batches) {
      for (let i = 0; i < b.inputIds.length; i++) {
        const label = b.tokenLabels![i];
        if (label !== -100) {
          chosen++;
          expect([0, 2, 3]).not.toContain(label); // [PAD] [CLS] [SEP]
        }
        if (b.attentionMask[i] && label === -100 && b.inputIds[i] > 4) ordinary++;
      }
    }
    const rate = chosen / (chosen + ordinary);
    expect(rate).toBeGreaterThan(0.12);
    expect(rate).toBeLessThan(0.18);
  });

  it('two-segment masked-LM examples are a line and the next one, as a pair with token types 0 then 1', async () => {
    const tok = await loadTokenizer(zooTokenizerFor('bert'), { model_type: 'bert' });
    const lines = ['travel back and forth regularly', 'the dog barked', 'a small cat'];
    const s = { ...DEFAULT_PRETRAIN, steps: 6, batchSize: 1, maskProb: 0, segments: 2 as const };
    const seen = new Set<string>();
    for (const b of mlmBatches(lines, tok, 4, 5000, s, 32, 'test')) {
      const ids = Array.from(b.inputIds).filter((_, i) => b.attentionMask[i]);
      const types = Array.from(b.tokenTypeIds!).filter((_, i) => b.attentionMask[i]);
      // [CLS] line [SEP] next line [SEP], types 0 ... 0 1 ... 1
      const match = [0, 1]
        .map((k) => tok.encode(lines[k], lines[k + 1], 32))
        .find((e) => e.inputIds.join() === ids.join());
      expect(match, `example ${ids.join(' ')} is no consecutive pair of lines`).toBeDefined();
      expect(types).toEqual(Array.from(match!.tokenTypeIds));
      expect(new Set(types)).toEqual(new Set([0, 1]));
      seen.add(ids.join());
    }
    expect(seen.size).toBe(2); // both pairs, never the last line followed by the first
  });
});

describe('shipped checkpoints', () => {
  for (const arch of buildableArchs()) {
    const built = existsSync(zooPath('models', arch, 'base'));
    it.skipIf(!built)(
      `${arch}: every fine-tuned model beats chance on the whole dev split, with the dev scores results.json records${built ? '' : ' (skipped: not built)'}`,
      { timeout: 180_000 },
      async () => {
        const results = JSON.parse(await readFile(zooPath('models', arch, 'results.json'), 'utf8')) as {
          runtime: string;
          tasks: Record<string, { dev: Record<string, number> }>;
        };
        // the runtime that scored them (results.json's `runtime`): onnxruntime, or tfjs wasm
        const backend = results.runtime.startsWith('onnxruntime')
          ? await createOnnxRuntimeBackend({ intraOpNumThreads: 1 })
          : await createTfjsBackend('wasm');
        const tok = await loadTokenizer(zooPath('models', arch, 'base'), { model_type: arch });
        for (const t of zooTasks) {
          const m = await open(zooPath('models', arch, t.name));
          const dev = await devBatches(t, tok, 64);
          const s = scoreTask(t, await devLogits(m, dev.batches, backend), dev.labels);
          // chance: 1 / classes (the dev splits are class-balanced); 0 correlation for regression
          const chance = t.num_labels === 1 ? 0 : 1 / t.num_labels;
          expect(s.score, `${arch} ${t.name}: ${JSON.stringify(s.metrics)}`).toBeGreaterThan(chance + 0.04);
          for (const [k, v] of Object.entries(s.metrics))
            expect(results.tasks[t.name].dev[k]).toBeCloseTo(v, 6);
        }
      },
    );
    it.skipIf(!built)(
      `${arch}: results.json's task-vector sizes are those of the shipped files, a fraction of the base${built ? '' : ' (skipped: not built)'}`,
      async () => {
        const results = JSON.parse(await readFile(zooPath('models', arch, 'results.json'), 'utf8')) as {
          tasks: Record<string, { task_vector_relative_size: number }>;
        };
        const base = await open(zooPath('models', arch, 'base'));
        for (const t of zooTasks) {
          const size = taskVectorRelativeSize(base, await open(zooPath('models', arch, t.name)));
          expect(results.tasks[t.name].task_vector_relative_size).toBeCloseTo(size, 6);
          // a short fine-tune moves the encoder by a fraction of its size
          expect(size).toBeGreaterThan(0);
          expect(size).toBeLessThan(0.5);
        }
      },
    );
  }
});
