import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, loadTokenizer, type TextDataset } from '@fmn/data';
import { zooTasks, zooTokenizers } from './index.js';

describe('shipped data', () => {
  it.each(zooTasks.map((t) => [t.name, t] as const))(
    '%s loads through @fmn/data with the right shape',
    async (_n, task) => {
      for (const split of ['train', 'dev']) {
        const ds = (await loadDataset(join(task.folder, `${split}.tsv`), {
          columns: { a: task.text_columns[0], b: task.text_columns[1] ?? null, label: 'label' },
        })) as TextDataset;
        expect(ds.kind).toBe('text');
        expect(ds.examples.length).toBeGreaterThan(split === 'train' ? 2000 : 300);
        expect(ds.examples.every((e) => (task.kind === 'pair' ? e.b !== undefined : e.b === undefined))).toBe(
          true,
        );
      }
    },
  );
});

describe('model folders', () => {
  it.each([
    ['bert', zooTokenizers.wordpiece, 'vocab.txt'],
    ['roberta', zooTokenizers.bpe, 'vocab.json+merges.txt'],
  ] as const)(
    '%s: the vocabulary files alone (as in the model folders) tokenize as tokenizer.json does',
    async (arch, dir, source) => {
      const full = await loadTokenizer(dir, { model_type: arch });
      const { mkdtemp, copyFile, rm } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const tmp = await mkdtemp(join(tmpdir(), 'fmn-zoo-tok-'));
      try {
        const files = arch === 'roberta' ? ['vocab.json', 'merges.txt'] : ['vocab.txt'];
        for (const f of [...files, 'tokenizer_config.json', 'special_tokens_map.json'])
          await copyFile(join(dir, f), join(tmp, f));
        const bare = await loadTokenizer(tmp, { model_type: arch });
        expect(bare.source).toBe(source);
        const task = zooTasks.find((t) => t.name === 'nli')!;
        const ds = (await loadDataset(join(task.folder, 'dev.tsv'), {
          columns: { a: 'sentence1', b: 'sentence2', label: 'label' },
        })) as TextDataset;
        for (const e of ds.examples.slice(0, 100))
          expect(bare.encode(e.a, e.b)).toEqual(full.encode(e.a, e.b));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  );
});
