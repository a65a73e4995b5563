/**
 * Issue 18: every Fisher file records the model it was computed on (core's model record); merge
 * checks it against the model the file is given for. Swapped files and one model's Fisher given
 * twice are errors naming the file; --allow-fisher-mismatch (allowFisherMismatch) merges anyway.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelRecordMetadata, writeMaskFisher } from '@fmn/core';
import { writeFakeFullFisher } from '../test/fake.js';
import { expectFmnError, model, root, run } from '../test/harness.js';

const LAYOUT = { layers: 2, heads: 2, headSize: 2, intermediate: 3 };

/** A mask Fisher of all ones recording `dir`'s model (as `fmn fisher` writes it). */
async function recordedMaskFisher(
  name: string,
  dir: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const p = join(root, `${name}.mask.safetensors`);
  await writeMaskFisher(
    p,
    { layout: LAYOUT, head: new Float32Array(4).fill(1), neuron: new Float32Array(6).fill(1), examples: 1 },
    { ...(await modelRecordMetadata(dir)), ...extra },
  );
  return p;
}

async function twoModels() {
  return [await model('a', { seed: 1 }), await model('b', { seed: 2 })];
}

describe('Fisher model record', () => {
  it('the right files merge', async () => {
    const [a, b] = await twoModels();
    const { report } = await run({
      method: 'fisher-nodes',
      models: [
        { dir: a.dir, fisher: await recordedMaskFisher('a', a.dir) },
        { dir: b.dir, fisher: await recordedMaskFisher('b', b.dir) },
      ],
    });
    expect(report.inputs).toHaveLength(2);
  });

  it('swapped mask Fisher files are an error naming the file; allowFisherMismatch merges with a warning', async () => {
    const [a, b] = await twoModels();
    const fa = await recordedMaskFisher('a', a.dir);
    const fb = await recordedMaskFisher('b', b.dir);
    const models = [
      { dir: a.dir, fisher: fb },
      { dir: b.dir, fisher: fa },
    ];
    const e = await expectFmnError(
      run({ method: 'fisher-nodes', models }),
      /given for model 1 .* does not belong to it: it was computed on other weights \(recorded for .*\/b\)/,
    );
    expect(e.message).toContain('b.mask.safetensors');
    expect(e.message).toContain('--allow-fisher-mismatch');
    const warnings: string[] = [];
    const { report } = await run({
      method: 'fisher-nodes',
      models,
      allowFisherMismatch: true,
      onWarning: (m) => warnings.push(m),
    });
    expect(report.inputs).toHaveLength(2);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/model 1 .*does not belong to it.*b\.mask\.safetensors.*merging anyway/);
  });

  it("one model's Fisher given for both models: the second is an error naming it", async () => {
    const [a, b] = await twoModels();
    const fa = await recordedMaskFisher('a', a.dir);
    const e = await expectFmnError(
      run({
        method: 'fisher-nodes',
        models: [
          { dir: a.dir, fisher: fa },
          { dir: b.dir, fisher: fa },
        ],
      }),
      /given for model 2 \(.*\/b\), does not belong to it/,
    );
    expect(e.message).toContain('a.mask.safetensors');
  });

  it('a Fisher file recording another model type is an error', async () => {
    const [a, b] = await twoModels();
    await expectFmnError(
      run({
        method: 'fisher-nodes',
        models: [
          { dir: a.dir, fisher: await recordedMaskFisher('a', a.dir, { model_type: 'roberta' }) },
          { dir: b.dir, fisher: await recordedMaskFisher('b', b.dir) },
        ],
      }),
      /computed on a roberta model .* is fake/,
    );
  });

  it('swapped full Fisher files are an error too', async () => {
    const [a, b] = await twoModels();
    const full = async (name: string, dir: string) => {
      const p = join(root, `${name}.full.safetensors`);
      await writeFakeFullFisher(p, (_, n) => new Float32Array(n).fill(1), {
        metadata: await modelRecordMetadata(dir),
      });
      return p;
    };
    const fa = await full('a', a.dir);
    const fb = await full('b', b.dir);
    await expectFmnError(
      run({
        method: 'fisher',
        models: [
          { dir: a.dir, fisher: fb },
          { dir: b.dir, fisher: fa },
        ],
      }),
      /b\.full\.safetensors: this Fisher file, given for model 1 .*does not belong to it/,
    );
  });
});
