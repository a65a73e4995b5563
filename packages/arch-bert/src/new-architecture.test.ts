/**
 * What a new architecture needs: an adapter (here a BERT-named one, from the factory) with its
 * prefix and tokenizer conventions, and a fixture spec. Registered, it runs the whole adapter
 * conformance suite and the fixture writer by name, and core reports its prefix, with no edit
 * anywhere else (no list of architectures in testkit, data or core).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Checkpoint, basePrefixOf, registerAdapter } from '@fmn/core';
import { describeAdapterConformance, fixtureArchs, writeFamily } from '@fmn/testkit';
import { createBertLikeAdapter, tokenizerConventions, WORDPIECE_SPECIAL_TOKENS } from './index.js';
import { bertLayoutFixture } from './testing/index.js';

/** The fixture, as its HF modeling file would be read: BERT's layers under `toy.`, a relu head. */
const toyFixture = bertLayoutFixture({
  modelType: 'toybert',
  className: 'ToyBert',
  prefix: 'toy.',
  tokenizer: { kind: 'wordpiece', className: 'ToyBertTokenizer' },
  padTokenId: 0,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  headActivations: ['relu', 'identity'],
  head: 'dense-out-proj',
  hasPooler: (kind, requested) => kind === 'base' && requested,
  pretraining: {},
  extraConfig: () => ({ toy_attribute: true }),
});

const toyAdapter = createBertLikeAdapter({
  modelType: 'toybert',
  className: 'ToyBert',
  prefix: 'toy.',
  defaults: { padTokenId: 0, layerNormEps: 1e-12 },
  paddingOffsetPositions: false,
  embeddingSizeKey: false,
  head: { kind: 'dense-out-proj', activation: 'relu' },
  basePooler: true,
  tokenizer: tokenizerConventions({
    template: 'bert',
    specialTokens: WORDPIECE_SPECIAL_TOKENS,
    files: ['vocab.txt'],
    typeVocabSize: 2,
  }),
  fixture: () => Promise.resolve(toyFixture),
});
registerAdapter(toyAdapter);

describeAdapterConformance(toyAdapter, toyFixture);

describe('a fifth architecture, registered', () => {
  let root: string | undefined;
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('is written by name and found by core', async () => {
    expect(fixtureArchs()).toEqual(expect.arrayContaining(['bert', 'toybert']));
    root = await mkdtemp(join(tmpdir(), 'fmn-toybert-'));
    const fam = await writeFamily(root, 'toybert', { seed: 2 });
    expect(fam.tasks[0].config).toMatchObject({
      architectures: ['ToyBertForSequenceClassification'],
      toy_attribute: true,
    });
    expect(fam.tasks[0].tensors.map((t) => t.name)).toContain('toy.encoder.layer.1.output.dense.weight');
    expect(basePrefixOf(fam.tasks[0].config)).toBe('toy.');
    const ckpt = await Checkpoint.open(fam.tasks[0].dir);
    try {
      const model = await toyAdapter.load(ckpt);
      expect(model.head?.kind === 'classification' && model.head.steps.map((s) => s.activation)).toEqual([
        'relu',
        'identity',
      ]);
    } finally {
      await ckpt.close();
    }
  });
});
