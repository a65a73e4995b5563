import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DIMS, EXAMPLES } from './fixtures.js';
import { fmn, maxRelDiff, ok, readTensor, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const model = join(fx, 'bert', 'two-labels');
const data = join(fx, 'data', 'two.tsv');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const common = ['--model', model, '--data', data, '--samples', 'all', '--batch-size', '8'];

describe('fmn fisher (mask Fisher, METHOD.md section 3)', () => {
  const files: Record<string, string> = {};

  for (const backend of ['tfjs', 'onnxruntime'] as const) {
    it(`writes head [L, H] and neuron [L, I] float32 with the settings as metadata (${backend})`, async () => {
      const out = join(dir, `mask-${backend}.safetensors`);
      const stdout = await ok(['fisher', ...common, '--backend', backend, '--seed', '3', '--out', out]);
      expect(stdout).toContain(`over ${EXAMPLES} examples`);
      files[backend] = out;
      const head = await readTensor(out, 'head');
      const neuron = await readTensor(out, 'neuron');
      expect(head.shape).toEqual([DIMS.layers, DIMS.heads]);
      expect(neuron.shape).toEqual([DIMS.layers, DIMS.intermediate]);
      expect(head.data.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
      expect(head.data.some((v) => v > 0)).toBe(true);
      const md = head.metadata;
      expect(md).toMatchObject({
        format: 'fmn-mask-fisher',
        convention: 'batch',
        samples: 'all',
        batch_size: '8',
        seed: '3',
        examples: String(EXAMPLES),
        shard: '',
      });
      expect(md.backend.startsWith(backend)).toBe(true);
      expect(md.model).toBe(model);
      expect(md.data).toBe(data);
      expect(md.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('both backends compute the same Fisher', async () => {
    for (const name of ['head', 'neuron']) {
      const a = await readTensor(files.tfjs, name);
      const b = await readTensor(files.onnxruntime, name);
      expect(maxRelDiff(a.data, b.data), name).toBeLessThan(1e-3);
    }
  });

  it('--shard i/n over 3 shards, combined, equals the unsharded Fisher; a combined file is not a shard', async () => {
    const shards = [0, 1, 2].map((i) => join(dir, `shard-${i}.safetensors`));
    for (const [i, s] of shards.entries()) {
      const stdout = await ok([
        'fisher',
        ...common,
        '--backend',
        'tfjs',
        '--seed',
        '3',
        '--shard',
        `${i}/3`,
        '--out',
        s,
        '--quiet',
      ]);
      expect(stdout).toContain(`(shard ${i}/3)`);
    }
    const shardExamples = await Promise.all(
      shards.map(async (s) => Number((await readTensor(s, 'head')).metadata.examples)),
    );
    expect(shardExamples.reduce((a, b) => a + b, 0)).toBe(EXAMPLES);
    expect(shardExamples.every((n) => n > 0 && n < EXAMPLES)).toBe(true);
    const combined = join(dir, 'combined.safetensors');
    // any order
    await ok(['fisher', 'combine', shards[2], shards[0], shards[1], '--out', combined]);
    for (const name of ['head', 'neuron']) {
      const whole = await readTensor(files.tfjs, name);
      const c = await readTensor(combined, name);
      expect(c.shape).toEqual(whole.shape);
      expect(maxRelDiff(c.data, whole.data), name).toBeLessThan(1e-5);
      expect(c.metadata.examples).toBe(String(EXAMPLES));
      expect(c.metadata.shard).toBe('');
    }
    userError(await fmn(['fisher', 'combine', combined, shards[0], '--out', join(dir, 'x.safetensors')]));
  });

  it('combine refuses shards of different models, settings or incomplete sets', async () => {
    const other = (name: string, extra: string[]) =>
      ok(['fisher', ...extra, '--backend', 'tfjs', '--shard', '1/2', '--out', join(dir, name), '--quiet']);
    const a = join(dir, 'a0.safetensors');
    // independent runs: two at a time
    await Promise.all([
      ok(['fisher', ...common, '--backend', 'tfjs', '--shard', '0/2', '--out', a, '--quiet']),
      other('model1.safetensors', [
        '--model',
        join(fx, 'roberta', 'two-labels'),
        '--data',
        data,
        '--samples',
        'all',
        '--batch-size',
        '8',
      ]),
    ]);
    await Promise.all([
      other('seed1.safetensors', [...common, '--seed', '1']),
      other('conv1.safetensors', [...common, '--convention', 'example']),
    ]);
    await other('ok1.safetensors', common);
    const combine = (b: string) =>
      fmn(['fisher', 'combine', a, join(dir, b), '--out', join(dir, 'c.safetensors')]);
    expect(userError(await combine('model1.safetensors'))).toMatch(/cannot combine: different model/);
    expect(userError(await combine('seed1.safetensors'))).toMatch(/cannot combine: different seed/);
    expect(userError(await combine('conv1.safetensors'))).toMatch(/cannot combine: different convention/);
    expect(userError(await fmn(['fisher', 'combine', a, '--out', join(dir, 'c.safetensors')]))).toContain(
      'missing shard 1/2',
    );
    expect(userError(await fmn(['fisher', 'combine', a, a, '--out', join(dir, 'c.safetensors')]))).toContain(
      'given twice',
    );
    await ok(['fisher', 'combine', a, join(dir, 'ok1.safetensors'), '--out', join(dir, 'c.safetensors')]);
  });

  it('--convention example and --samples N with a seed', async () => {
    const out = join(dir, 'example.safetensors');
    await ok([
      'fisher',
      '--model',
      model,
      '--data',
      data,
      '--samples',
      '10',
      '--seed',
      '7',
      '--convention',
      'example',
      '--batch-size',
      '4',
      '--out',
      out,
    ]);
    const h = await readTensor(out, 'head');
    expect(h.metadata).toMatchObject({ convention: 'example', samples: '10', seed: '7', examples: '10' });
  });

  it('a GLUE task folder: the train split by default', async () => {
    const out = join(dir, 'sst2.safetensors');
    await ok([
      'fisher',
      '--model',
      model,
      '--data',
      join(fx, 'data', 'SST-2'),
      '--task',
      'sst2',
      '--samples',
      'all',
      '--out',
      out,
    ]);
    expect((await readTensor(out, 'head')).metadata).toMatchObject({
      task: 'sst2',
      split: 'train',
      examples: '16',
    });
  });

  it('RoBERTa (no token types) on a JSONL file', async () => {
    const out = join(dir, 'roberta.safetensors');
    await ok([
      'fisher',
      '--model',
      join(fx, 'roberta', 'two-labels'),
      '--data',
      join(fx, 'data', 'two.jsonl'),
      '--samples',
      '8',
      '--out',
      out,
    ]);
    expect((await readTensor(out, 'head')).shape).toEqual([DIMS.layers, DIMS.heads]);
  });
});

describe('fmn fisher --full (full diagonal Fisher, METHOD.md section 4)', () => {
  const full: Record<string, string> = {};
  for (const backend of ['tfjs', 'onnxruntime'] as const) {
    it(`one tensor per parameter with its shape (${backend})`, async () => {
      const out = join(dir, `full-${backend}.safetensors`);
      await ok([
        'fisher',
        '--full',
        ...common,
        '--samples',
        '8',
        '--batch-size',
        '4',
        '--backend',
        backend,
        '--out',
        out,
      ]);
      full[backend] = out;
      const { Checkpoint, SafetensorsFile } = await import('@fmn/core');
      const f = await SafetensorsFile.open(out);
      const ckpt = await Checkpoint.open(model);
      try {
        expect(f.metadata).toMatchObject({ format: 'fmn-full-fisher', convention: 'example', examples: '8' });
        const q = 'bert.encoder.layer.0.attention.self.query.weight';
        expect(f.names()).toContain(q);
        expect([...f.info(q).shape]).toEqual([...ckpt.info(q).shape]);
        expect(f.names().length).toBeGreaterThan(10);
      } finally {
        await f.close();
        await ckpt.close();
      }
    });
  }

  it('both backends agree; full shards combine to the unsharded Fisher', async () => {
    const q = 'bert.encoder.layer.1.intermediate.dense.weight';
    const a = await readTensor(full.tfjs, q);
    const b = await readTensor(full.onnxruntime, q);
    expect(maxRelDiff(a.data, b.data)).toBeLessThan(1e-3);
    const shards = [0, 1].map((i) => join(dir, `full-shard-${i}.safetensors`));
    for (const [i, s] of shards.entries()) {
      await ok([
        'fisher',
        '--full',
        ...common,
        '--samples',
        '8',
        '--batch-size',
        '4',
        '--backend',
        'tfjs',
        '--shard',
        `${i}/2`,
        '--out',
        s,
      ]);
    }
    const c = join(dir, 'full-combined.safetensors');
    await ok(['fisher', 'combine', ...shards, '--out', c]);
    expect(maxRelDiff((await readTensor(c, q)).data, a.data)).toBeLessThan(1e-5);
  });
});

describe('fmn fisher --out never destroys an input', () => {
  it("refuses the model's own files, the data file and a shard, and replaces an existing output only with --force", async () => {
    // a copy, so that a failing guard cannot destroy the shared fixture
    const m = join(dir, 'guarded-model');
    await cp(model, m, { recursive: true });
    const weights = await readFile(join(m, 'model.safetensors'));
    const refused = async (out: string, message: RegExp, extra: string[] = []) => {
      const err = userError(
        await fmn(['fisher', '--model', m, '--data', data, '--samples', '4', '--out', out, ...extra]),
      );
      expect(err).toContain(out);
      expect(err).toMatch(message);
    };
    await refused(join(m, 'model.safetensors'), /would replace model\.safetensors, a file of the model/, [
      '--force',
    ]);
    await refused(join(m, 'config.json'), /would replace config\.json, a file of the model/, ['--force']);
    await refused(data, /--out is the data/, ['--force']);
    await refused(m, /--out is the model/, ['--force']);
    expect(await readFile(join(m, 'model.safetensors'))).toEqual(weights);

    const out = join(dir, 'guarded.safetensors');
    await writeFile(out, 'an earlier result');
    await refused(out, /--out already exists; add --force to replace it/);
    expect(await readFile(out, 'utf8')).toBe('an earlier result');
    await ok([
      'fisher',
      '--model',
      m,
      '--data',
      data,
      '--samples',
      '4',
      '--backend',
      'tfjs',
      '--out',
      out,
      '--force',
      '--quiet',
    ]);
    expect((await readTensor(out, 'head')).shape).toEqual([DIMS.layers, DIMS.heads]);
    // a Fisher file inside the model folder is fine: it is not one of the model's files
    await ok([
      'fisher',
      '--model',
      m,
      '--data',
      data,
      '--samples',
      '4',
      '--backend',
      'tfjs',
      '--out',
      join(m, 'fisher.safetensors'),
      '--quiet',
    ]);

    const s0 = join(dir, 'guard-s0.safetensors');
    const s1 = join(dir, 'guard-s1.safetensors');
    for (const [i, f] of [s0, s1].entries()) {
      await ok([
        'fisher',
        '--model',
        m,
        '--data',
        data,
        '--samples',
        '4',
        '--batch-size',
        '2',
        '--backend',
        'tfjs',
        '--shard',
        `${i}/2`,
        '--out',
        f,
        '--quiet',
      ]);
    }
    const shard0 = await readFile(s0);
    const err = userError(await fmn(['fisher', 'combine', s0, s1, '--out', s0, '--force']));
    expect(err).toMatch(/--out is shard 1/);
    expect(await readFile(s0)).toEqual(shard0);
  }, 120_000);
});
