/**
 * The whole zoo build as a pure function: WordNet + AFINN -> task TSVs, the masked-language-model
 * corpus and the two tokenizers. `scripts/build-data.ts` writes the result into @fmn/zoo.
 */
import { FmnError } from '@fmn/core';
import { bowBaseline } from './baseline.js';
import { byteBpeFiles, trainByteBpe } from './bpe.js';
import { DEFAULT_BUILD, type BuildOptions, type TaskSplits } from './task-spec.js';
import { buildTasks } from './tasks.js';
import { readWordNet, type WnSynset } from './wordnet.js';
import { trainWordPiece, wordPieceFiles } from './wordpiece.js';

export interface ZooBuildOptions extends BuildOptions {
  wordPieceVocab: number;
  bpeVocab: number;
  modelMaxLength: number;
}

export const DEFAULT_ZOO_BUILD: ZooBuildOptions = {
  ...DEFAULT_BUILD,
  wordPieceVocab: 5000,
  bpeVocab: 5000,
  modelMaxLength: 128,
};

/** `id<TAB>text...<TAB>label` with a header row. */
export function taskTsv(t: TaskSplits, split: 'train' | 'dev'): string {
  const rows = [['id', ...t.spec.textColumns, 'label'].join('\t')];
  const regression = t.spec.numLabels === 1;
  t[split].forEach((e, i) => {
    for (const x of e.texts) {
      if (/[\t\n\r]/.test(x))
        throw new FmnError(`text with a tab or newline in task ${t.spec.name}: ${JSON.stringify(x)}`);
    }
    rows.push([`${split}-${i}`, ...e.texts, regression ? e.label.toFixed(2) : String(e.label)].join('\t'));
  });
  return `${rows.join('\n')}\n`;
}

/**
 * The masked-language-model corpus: for every synset `lemma, lemma: definition`, then each example
 * sentence on its own line; deduplicated (first occurrence kept, WordNet file order); every line
 * showing a definition or example sentence used by a dev example is left out.
 */
export function mlmCorpus(wn: Map<string, WnSynset>, tasks: TaskSplits[]): string[] {
  const devSources = new Set(tasks.flatMap((t) => t.dev.flatMap((e) => e.sources)));
  const seen = new Set<string>();
  const out: string[] = [];
  const push = (line: string): void => {
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  };
  for (const s of wn.values()) {
    if (s.definition && !devSources.has(s.definition)) push(`${s.words.join(', ')}: ${s.definition}`);
    for (const e of s.examples) if (!devSources.has(e)) push(e);
  }
  return out;
}

/**
 * Tasks shipped as data without models: the tiny models memorise `similarity`'s training pairs
 * (train MSE 0.2) without learning anything that carries to dev (Pearson about 0), so fine-tuned
 * checkpoints of it would make merging comparisons meaningless. Its data still defines the corpus
 * exclusion (and so the tokenizers).
 */
export const DATA_ONLY: ReadonlySet<string> = new Set(['similarity']);

export interface ZooBuild {
  /** Relative path (under @fmn/zoo's root) -> file contents, for everything committed. */
  files: Map<string, string>;
  tasks: TaskSplits[];
  corpus: string[];
  wordPieceVocab: string[];
}

export function buildZoo(opts: ZooBuildOptions = DEFAULT_ZOO_BUILD, wn = readWordNet()): ZooBuild {
  const tasks = buildTasks(wn, opts);
  const corpus = mlmCorpus(wn, tasks);
  const files = new Map<string, string>();
  const summary: Record<string, unknown>[] = [];
  for (const t of tasks) {
    files.set(`data/${t.spec.name}/train.tsv`, taskTsv(t, 'train'));
    files.set(`data/${t.spec.name}/dev.tsv`, taskTsv(t, 'dev'));
    const bow = bowBaseline(t.train, t.dev, t.spec.numLabels);
    summary.push({
      ...t.spec,
      folder: `data/${t.spec.name}`,
      train: t.train.length,
      dev: t.dev.length,
      models: !DATA_ONLY.has(t.spec.name),
      bow_baseline: {
        ...(t.spec.numLabels === 1
          ? { pearson: round(bow.score), spearman: round(bow.spearman!) }
          : { accuracy: round(bow.score) }),
      },
    });
  }
  files.set('data/tasks.json', `${JSON.stringify({ seed: opts.seed, tasks: summary }, null, 2)}\n`);
  const wordPieceVocab = trainWordPiece(corpus, opts.wordPieceVocab);
  for (const [name, text] of Object.entries(wordPieceFiles(wordPieceVocab, opts.modelMaxLength))) {
    files.set(`tokenizers/wordpiece/${name}`, text);
  }
  const bpe = trainByteBpe(corpus, opts.bpeVocab);
  for (const [name, text] of Object.entries(byteBpeFiles(bpe, opts.modelMaxLength))) {
    files.set(`tokenizers/bpe/${name}`, text);
  }
  return { files, tasks, corpus, wordPieceVocab };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
