/**
 * Fuzz property, per registered architecture (through core's adapter registry): any JSON mutation
 * of a valid config.json either opens, lays out and loads the model, or fails with an FmnError
 * naming config.json or the weights beside it, never another error (prototype-key activations,
 * huge or non-finite dimensions, wrong types, id2label shapes included).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { Checkpoint, adapterFor, listModelTypes } from '@fmn/core';
import { applyJsonMutations, expectCleanOutcome, jsonMutations, runProperty, toJsonText } from '@fmn/fuzz';
import { writeCheckpoint } from '@fmn/testkit';
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-config-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fuzz: config.json of every registered architecture', () => {
  it('JSON mutations: a loaded model or an FmnError naming the model folder', async () => {
    const types = listModelTypes().filter((t) => ['bert', 'roberta', 'distilbert', 'electra'].includes(t));
    const valid: { dir: string; config: unknown }[] = [];
    for (const t of types) {
      const fx = await writeCheckpoint(join(root, `valid-${t}`), t, {
        hidden: 8,
        heads: 2,
        layers: 2,
        intermediate: 16,
      });
      valid.push({
        dir: fx.dir,
        config: JSON.parse(await readFile(join(fx.dir, 'config.json'), 'utf8')) as unknown,
      });
    }
    let k = 0;
    await runProperty(
      'config.json',
      fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), jsonMutations()),
      async ([which, muts]) => {
        const src = valid[which]!;
        const dir = join(root, `c${k++}`);
        await mkdir(dir);
        await copyFile(join(src.dir, 'model.safetensors'), join(dir, 'model.safetensors'));
        await writeFile(join(dir, 'config.json'), toJsonText(applyJsonMutations(src.config, muts)));
        await expectCleanOutcome(async () => {
          const ck = await Checkpoint.open(dir);
          try {
            const adapter = adapterFor(ck.config, join(dir, 'config.json'));
            adapter.maskLayout(ck.config);
            await adapter.load(ck);
          } finally {
            await ck.close();
          }
        }, dir);
      },
      150,
    );
  });
});
