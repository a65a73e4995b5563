/**
 * The tiny models and data files every end-to-end test reads (written once by the global setup):
 * testkit families of BERT and RoBERTa (base + two-labels, three-labels, regression), a 3-layer
 * BERT (for shape mismatches), and small labelled data files for each task.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCheckpoint, writeFamily } from '@fmn/testkit';
// the fixtures are written from the registered adapters' fixture specs
import '../src/register.js';

export const DIMS = { layers: 2, hidden: 16, heads: 2, intermediate: 32 } as const;
export const EXAMPLES = 24;

const WORDS = [
  'good',
  'bad',
  'movie',
  'film',
  'great',
  'awful',
  'fun',
  'boring',
  'the',
  'is',
  'very',
  'not',
  'dog',
  'cat',
];

function sentence(i: number, salt: number): string {
  const n = 3 + ((i * 7 + salt) % 4);
  return Array.from({ length: n }, (_, k) => WORDS[(i * 5 + k * 3 + salt * 11) % WORDS.length]).join(' ');
}

export function dataFiles(): Record<string, string> {
  const two = ['sentence\tlabel'];
  const three = ['sentence1\tsentence2\tlabel'];
  const reg = ['sentence1\tsentence2\tlabel'];
  const cola: string[] = [];
  const jsonl: string[] = [];
  for (let i = 0; i < EXAMPLES; i++) {
    two.push(`${sentence(i, 1)}\t${['negative', 'positive'][(i * 7) % 5 < 2 ? 0 : 1]}`);
    three.push(
      `${sentence(i, 2)}\t${sentence(i + 3, 5)}\t${['entailment', 'neutral', 'contradiction'][i % 3]}`,
    );
    reg.push(`${sentence(i, 3)}\t${sentence(i, 4)}\t${((i * 13) % 25) / 5}`);
    cola.push(`src${i % 3}\t${(i * 5) % 3 === 0 ? 0 : 1}\t\t${sentence(i, 6)}`);
    jsonl.push(JSON.stringify({ sentence: sentence(i, 7), label: i % 2 }));
  }
  const sst2 = (salt: number, n: number) =>
    [
      'sentence\tlabel',
      ...Array.from({ length: n }, (_, i) => `${sentence(i, salt)}\t${(i * 3 + salt) % 2}`),
    ].join('\n') + '\n';
  return {
    'SST-2/train.tsv': sst2(8, 16),
    'SST-2/dev.tsv': sst2(9, 10),
    'two.tsv': two.join('\n') + '\n',
    'three.tsv': three.join('\n') + '\n',
    'reg.tsv': reg.join('\n') + '\n',
    'cola.tsv': cola.join('\n') + '\n',
    'two.jsonl': jsonl.join('\n') + '\n',
  };
}

export async function writeFixtures(dir: string): Promise<void> {
  await writeFamily(join(dir, 'bert'), 'bert', DIMS);
  await writeFamily(join(dir, 'roberta'), 'roberta', DIMS);
  await writeCheckpoint(join(dir, 'bert-3-layers'), 'bert', {
    ...DIMS,
    layers: 3,
    numLabels: 2,
    perturbation: 0.02,
  });
  await mkdir(join(dir, 'data', 'SST-2'), { recursive: true });
  for (const [name, text] of Object.entries(dataFiles())) await writeFile(join(dir, 'data', name), text);
}
