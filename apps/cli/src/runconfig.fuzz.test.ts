/**
 * Fuzz property: any mutation of a valid run configuration (JSON value mutations written as JSON
 * or YAML, or byte mutations of the YAML text) parses to a plan or fails with an FmnError naming
 * the file, never another error.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  applyByteMutations,
  applyJsonMutations,
  byteMutations,
  expectCleanOutcome,
  jsonMutations,
  runProperty,
  toJsonText,
} from '@fmn/fuzz';
import { parseRunConfig } from './runconfig.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-runconfig-fuzz-'));
  for (const m of ['base', 'two', 'three']) await mkdir(join(root, 'models', m), { recursive: true });
  await mkdir(join(root, 'data'));
  for (const d of ['two.tsv', 'three.tsv']) await writeFile(join(root, 'data', d), 'sentence\tlabel\na\t1\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const VALID = {
  title: 'tiny run',
  output: 'out',
  cache: 'cache',
  backend: 'onnxruntime',
  base: 'models/base',
  keep_models: true,
  fisher: { samples: 8, batch_size: 4, seed: 0, convention: 'batch', max_length: 64 },
  eval: { batch_size: 16, max_length: 64 },
  k: [2, 'all'],
  methods: [
    'average',
    'fisher-nodes',
    { method: 'task-arithmetic', lambda: 0.5 },
    { method: 'ties', k: 0.2 },
  ],
  tasks: [
    { name: 'two', model: 'models/two', data: 'data/two.tsv' },
    { name: 'three', model: 'models/three', fisher_data: 'data/three.tsv', eval_data: 'data/three.tsv' },
  ],
};

describe('fuzz: run configurations', () => {
  it('mutations of JSON and YAML run configs: a plan or an FmnError naming the file', async () => {
    parseRunConfig(JSON.stringify(VALID), join(root, 'run.json')); // the unmutated config is valid
    await runProperty(
      'run config',
      fc.record({
        format: fc.constantFrom('json', 'yaml', 'yaml-bytes'),
        values: jsonMutations(),
        bytes: byteMutations(),
      }),
      async (c) => {
        const mutated = applyJsonMutations(VALID, c.values);
        const file = join(root, c.format === 'json' ? 'run.json' : 'run.yaml');
        const text =
          c.format === 'json'
            ? toJsonText(mutated)
            : c.format === 'yaml'
              ? stringify(mutated)
              : Buffer.from(applyByteMutations(Buffer.from(stringify(VALID)), c.bytes)).toString('utf8');
        await expectCleanOutcome(() => parseRunConfig(text, file), file);
      },
      300,
    );
  });
});
