import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DIMS, EXAMPLES, dataFiles } from './fixtures.js';
import { fmn, maxRelDiff, ok, readTensor, tempDir, userError } from './helpers.js';

const fx = inject('fx');
const bert = join(fx, 'bert', 'two-labels');
const roberta = join(fx, 'roberta', 'three-labels');
const labelled = join(fx, 'data', 'two.tsv');
let dir: string;
let unlabelled: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // the same sentences as two.tsv, without the label column
  const rows = dataFiles()['two.tsv'].trimEnd().split('\n');
  unlabelled = join(dir, 'unlabelled.tsv');
  await writeFile(unlabelled, rows.map((r) => r.split('\t')[0]).join('\n') + '\n');
});
afterAll(() => cleanup());

const BACKENDS = ['tfjs', 'onnxruntime'] as const;

describe("fmn fisher --convention model (METHOD.md section 3, the model's own labels)", () => {
  const mask: Record<string, string> = {};
  const full: Record<string, string> = {};

  for (const backend of BACKENDS) {
    it(`mask Fisher from data without labels (${backend})`, async () => {
      const out = join(dir, `model-${backend}.safetensors`);
      await ok([
        'fisher',
        '--model',
        bert,
        '--data',
        unlabelled,
        '--samples',
        'all',
        '--convention',
        'model',
        '--backend',
        backend,
        '--out',
        out,
      ]);
      mask[backend] = out;
      const head = await readTensor(out, 'head');
      expect(head.shape).toEqual([DIMS.layers, DIMS.heads]);
      expect(head.data.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
      expect(head.data.some((v) => v > 0)).toBe(true);
      expect(head.metadata).toMatchObject({
        format: 'fmn-mask-fisher',
        convention: 'model',
        examples: String(EXAMPLES),
      });
    });

    it(`full Fisher from data without labels (${backend})`, async () => {
      const out = join(dir, `full-model-${backend}.safetensors`);
      await ok([
        'fisher',
        '--full',
        '--model',
        bert,
        '--data',
        unlabelled,
        '--samples',
        '6',
        '--convention',
        'model',
        '--backend',
        backend,
        '--out',
        out,
      ]);
      full[backend] = out;
      const q = await readTensor(out, 'bert.encoder.layer.0.attention.self.query.weight');
      expect(q.metadata).toMatchObject({ format: 'fmn-full-fisher', convention: 'model', examples: '6' });
      expect(q.data.some((v) => v > 0)).toBe(true);
    });
  }

  it('both backends agree, and labels in the data change nothing', async () => {
    for (const name of ['head', 'neuron']) {
      const a = await readTensor(mask.tfjs, name);
      const b = await readTensor(mask.onnxruntime, name);
      expect(maxRelDiff(a.data, b.data), name).toBeLessThan(1e-3);
    }
    const q = 'bert.encoder.layer.1.intermediate.dense.weight';
    expect(
      maxRelDiff((await readTensor(full.tfjs, q)).data, (await readTensor(full.onnxruntime, q)).data),
    ).toBeLessThan(1e-3);
    const withLabels = join(dir, 'model-labelled.safetensors');
    await ok([
      'fisher',
      '--model',
      bert,
      '--data',
      labelled,
      '--samples',
      'all',
      '--convention',
      'model',
      '--backend',
      'tfjs',
      '--out',
      withLabels,
    ]);
    const a = await readTensor(withLabels, 'neuron');
    const b = await readTensor(mask.tfjs, 'neuron');
    expect(maxRelDiff(a.data, b.data)).toBeLessThan(1e-6);
  });

  it('the label conventions still need labels', async () => {
    const msg = userError(
      await fmn([
        'fisher',
        '--model',
        bert,
        '--data',
        unlabelled,
        '--convention',
        'example',
        '--out',
        join(dir, 'x.safetensors'),
      ]),
    );
    expect(msg).toMatch(/label/);
  });
});

describe("fmn gram (RegMean's Gram matrices, METHOD.md 5.4)", () => {
  const files: Record<string, string> = {};

  for (const backend of BACKENDS) {
    it(`one [in, in] tensor per encoder Linear, BERT's pooler included (${backend})`, async () => {
      const out = join(dir, `gram-${backend}.safetensors`);
      const stdout = await ok([
        'gram',
        '--model',
        bert,
        '--data',
        unlabelled,
        '--samples',
        'all',
        '--batch-size',
        '5',
        '--backend',
        backend,
        '--out',
        out,
      ]);
      expect(stdout).toContain(`over ${EXAMPLES} examples`);
      files[backend] = out;
      const { SafetensorsFile } = await import('@fmn/core');
      const f = await SafetensorsFile.open(out);
      try {
        expect(f.metadata).toMatchObject({
          format: 'fmn-gram',
          examples: String(EXAMPLES),
          samples: 'all',
          batch_size: '5',
        });
        expect(f.metadata.backend.startsWith(backend)).toBe(true);
        expect(f.metadata.model_sha256).toMatch(/^[0-9a-f]{64}$/);
        // 6 Linears a layer, and the pooler; the classifier (a task head) has none
        expect(f.names().length).toBe(6 * DIMS.layers + 1);
        expect([...f.info('bert.pooler.dense.weight').shape]).toEqual([DIMS.hidden, DIMS.hidden]);
        expect([...f.info('bert.encoder.layer.1.output.dense.weight').shape]).toEqual([
          DIMS.intermediate,
          DIMS.intermediate,
        ]);
        expect(f.names().some((n) => n.startsWith('classifier'))).toBe(false);
      } finally {
        await f.close();
      }
      // query and key read the same input; a Gram matrix is symmetric with a non-negative diagonal
      const q = await readTensor(out, 'bert.encoder.layer.0.attention.self.query.weight');
      const k = await readTensor(out, 'bert.encoder.layer.0.attention.self.key.weight');
      expect(q.data).toEqual(k.data);
      const n = DIMS.hidden;
      for (let r = 0; r < n; r++) {
        expect(q.data[r * n + r]).toBeGreaterThanOrEqual(0);
        for (let c = 0; c < r; c++)
          expect(Math.abs(q.data[r * n + c] - q.data[c * n + r])).toBeLessThanOrEqual(1e-4 * q.data[0]);
      }
    });
  }

  it('both backends agree; batch size does not matter', async () => {
    const name = 'bert.encoder.layer.1.intermediate.dense.weight';
    const a = await readTensor(files.tfjs, name);
    const b = await readTensor(files.onnxruntime, name);
    expect(maxRelDiff(a.data, b.data)).toBeLessThan(1e-4);
    const other = join(dir, 'gram-b3.safetensors');
    await ok([
      'gram',
      '--model',
      bert,
      '--data',
      unlabelled,
      '--samples',
      'all',
      '--batch-size',
      '3',
      '--backend',
      'onnxruntime',
      '--out',
      other,
    ]);
    expect(maxRelDiff((await readTensor(other, name)).data, b.data)).toBeLessThan(1e-5);
  });

  it('RoBERTa: no Gram for the classification head; refuses to overwrite without --force', async () => {
    const out = join(dir, 'gram-roberta.safetensors');
    await ok([
      'gram',
      '--model',
      roberta,
      '--data',
      unlabelled,
      '--samples',
      '4',
      '--backend',
      'onnxruntime',
      '--out',
      out,
    ]);
    const { SafetensorsFile } = await import('@fmn/core');
    const f = await SafetensorsFile.open(out);
    const names = f.names();
    await f.close();
    expect(names.length).toBe(6 * DIMS.layers);
    expect(names.every((n) => n.startsWith('roberta.encoder.'))).toBe(true);
    const again = await fmn([
      'gram',
      '--model',
      roberta,
      '--data',
      unlabelled,
      '--samples',
      '4',
      '--out',
      out,
    ]);
    expect(userError(again)).toMatch(/exists|--force/);
    await ok([
      'gram',
      '--model',
      roberta,
      '--data',
      unlabelled,
      '--samples',
      '4',
      '--out',
      out,
      '--force',
      '--quiet',
    ]);
  });

  it('--shard i/n over 3 shards, combined by `fmn fisher combine`, equals the unsharded Gram matrices', async () => {
    const shards = [0, 1, 2].map((i) => join(dir, `gram-shard-${i}.safetensors`));
    for (const [i, s] of shards.entries()) {
      const stdout = await ok([
        ...['gram', '--model', bert, '--data', unlabelled, '--samples', 'all'],
        '--batch-size',
        '5',
        '--backend',
        'onnxruntime',
        '--shard',
        `${i}/3`,
        '--out',
        s,
      ]);
      expect(stdout).toContain(`(shard ${i}/3)`);
    }
    const combined = join(dir, 'gram-combined.safetensors');
    expect(await ok(['fisher', 'combine', shards[1], shards[2], shards[0], '--out', combined])).toContain(
      'combined 3 Gram shards',
    );
    const name = 'bert.pooler.dense.weight';
    const c = await readTensor(combined, name);
    expect(c.metadata).toMatchObject({ format: 'fmn-gram', examples: String(EXAMPLES), shard: '' });
    expect(maxRelDiff(c.data, (await readTensor(files.onnxruntime, name)).data)).toBeLessThan(1e-5);
    // a Gram shard does not combine with a Fisher shard
    const fisherShard = join(dir, 'fisher-shard-1.safetensors');
    await ok([
      'fisher',
      '--model',
      bert,
      '--data',
      labelled,
      '--samples',
      'all',
      '--batch-size',
      '5',
      '--backend',
      'onnxruntime',
      '--shard',
      '1/3',
      '--out',
      fisherShard,
    ]);
    const mixed = await fmn([
      'fisher',
      'combine',
      shards[0],
      fisherShard,
      shards[2],
      '--out',
      join(dir, 'mixed.safetensors'),
    ]);
    expect(userError(mixed)).toMatch(/cannot combine: different kind of Fisher/);
  });

  it('fmn merge --method regmean takes one --gram per --model; biases are the plain mean', async () => {
    const other = join(fx, 'bert', 'three-labels');
    const gOther = join(dir, 'gram-three.safetensors');
    await ok([
      'gram',
      '--model',
      other,
      '--data',
      unlabelled,
      '--samples',
      'all',
      '--backend',
      'onnxruntime',
      '--out',
      gOther,
    ]);
    const outDir = join(dir, 'regmean');
    const stdout = await ok([
      'merge',
      '--method',
      'regmean',
      '--model',
      bert,
      '--gram',
      files.onnxruntime,
      '--model',
      other,
      '--gram',
      gOther,
      '--regmean-alpha',
      '0.5',
      '--out',
      outDir,
      '--json',
    ]);
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r).toMatchObject({ method: 'regmean', regmeanAlpha: 0.5, gramTensors: 6 * DIMS.layers + 1 });
    const { Checkpoint } = await import('@fmn/core');
    const read = async (d: string, name: string) => {
      const c = await Checkpoint.open(d);
      try {
        return await c.readFloat32(name);
      } finally {
        await c.close();
      }
    };
    const outputs = (r.inputs as { output: string }[]).map((i) => join(outDir, i.output));
    const bias = 'bert.encoder.layer.0.attention.self.query.bias';
    const [b0, b1, bm] = await Promise.all([read(bert, bias), read(other, bias), read(outputs[0], bias)]);
    expect(
      maxRelDiff(
        bm,
        b0.map((v, i) => (v + b1[i]) / 2),
      ),
    ).toBeLessThan(1e-6);
    // a Linear weight is not the plain mean (the Gram matrices weight its columns)
    const w = 'bert.encoder.layer.0.attention.self.query.weight';
    const [w0, w1, wm] = await Promise.all([read(bert, w), read(other, w), read(outputs[1], w)]);
    expect(
      maxRelDiff(
        wm,
        w0.map((v, i) => (v + w1[i]) / 2),
      ),
    ).toBeGreaterThan(1e-4);
    const missing = await fmn([
      'merge',
      '--method',
      'regmean',
      '--model',
      bert,
      '--model',
      other,
      '--out',
      join(dir, 'x'),
    ]);
    expect(userError(missing)).toMatch(/needs a Gram file for every model/);
  });
});
