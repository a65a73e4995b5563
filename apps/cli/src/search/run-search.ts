/**
 * The coefficient search (docs/method.md §5.6), shared by `fmn merge --search` and `fmn run`:
 * every candidate is merged into a scratch folder (removed after scoring), each task evaluated with
 * its own head on held-out train examples, and the best mean score chosen.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FmnError, registerLiveTemp, SafetensorsFile } from '@fmn/core';
import { loadDataset, sampleIndices, type Dataset } from '@fmn/data';
import { mergeMethod, type MergeReport } from '@fmn/merge';
import { runMerge, type MergeCliOptions } from '../commands/merge.js';
import { dataHash } from '../hash.js';
import {
  openModel,
  predictLogits,
  prepareDataset,
  scoreLogits,
  startBackend,
  type PreparedData,
} from '../pipeline.js';
import { note, type ProgressOptions } from '../progress.js';
import { chooseCandidate, meanScore, searchCandidates, type Scored, type SearchKind } from './candidates.js';
import { heldOutIndices, recordedSamples } from './holdout.js';

export interface SearchData {
  /** train data of the model's task: a file, or a task folder (split train) */
  readonly data: string;
  readonly task?: string;
  /**
   * train examples the held-out part must leave out (besides those its Fisher / Gram file records):
   * those `sampleIndices(n, samples, seed)` draws, as `fmn run` draws its Fisher examples
   */
  readonly exclude?: { readonly samples: number | 'all'; readonly seed: number };
  /** the only train rows the held-out part may use (e.g. those the model was not fine-tuned on); absent: all */
  readonly rows?: readonly number[];
}

export interface SearchSettings {
  /** the merge to search (its `out` is unused) */
  readonly merge: Omit<MergeCliOptions, 'out' | 'force'>;
  /** per model, in order */
  readonly data: readonly SearchData[];
  readonly holdout: number;
  readonly seed: number;
  /** Dirichlet samples for more than two models */
  readonly samples?: number;
  readonly backend?: string;
  readonly batchSize: number;
  readonly maxLength?: number;
  /** folder for the candidates' merges (created and removed) */
  readonly scratch: string;
  /** task names for the table (default: the merge's output folder names) */
  readonly names?: readonly string[];
}

/** merge-report.json's and report.json's `search` field. */
export interface SearchReport {
  readonly kind: SearchKind;
  readonly objective: string;
  readonly tieBreak: string;
  readonly seed: number;
  readonly tasks: readonly {
    readonly name: string;
    readonly data: string;
    readonly split: 'train';
    readonly examples: number;
    /** train examples left out (the Fisher / Gram examples) */
    readonly excluded: number;
    /** the held-out example indices (file order of the train data) */
    readonly indices: readonly number[];
  }[];
  readonly candidates: readonly {
    readonly coefficients: readonly number[];
    readonly scores: Record<string, number>;
    readonly mean: number;
    readonly distance: number;
  }[];
  readonly chosen: {
    readonly index: number;
    readonly coefficients: readonly number[];
    readonly mean: number;
  };
}

/** The search kind of a method, or an FmnError when it has no coefficients to search. */
export function searchKindOf(method: string): SearchKind {
  const kind = mergeMethod(method).search as SearchKind | undefined;
  if (!kind)
    throw new FmnError(`--search: method "${method}" has no coefficients to search (docs/method.md §5.6)`);
  return kind;
}

/** The merge with a candidate's coefficients: the scale option, or lambda_j per model. */
export function withCoefficients<T extends Omit<MergeCliOptions, 'out' | 'force'>>(
  m: T,
  kind: SearchKind,
  c: readonly number[],
): T {
  return kind === 'scale'
    ? { ...m, options: { ...(m.options ?? {}), scale: c[0] } }
    : { ...m, lambda: [...c] };
}

async function metadataOf(path: string | undefined): Promise<Record<string, string>> {
  if (!path) return {};
  const f = await SafetensorsFile.open(path);
  try {
    return { ...f.metadata };
  } finally {
    await f.close();
  }
}

/** Runs the search; returns its report (the caller merges with the chosen coefficients). */
export async function runSearch(s: SearchSettings, g: ProgressOptions): Promise<SearchReport> {
  const M = s.merge.models.length;
  if (s.data.length !== M)
    throw new FmnError(
      `--search needs one --data (train data) per --model: ${M} models, ${s.data.length} --data`,
    );
  const kind = searchKindOf(s.merge.method);
  if (kind === 'lambdas' && s.merge.lambda?.length)
    throw new FmnError(`--search chooses the lambdas of ${s.merge.method}: do not give --lambda`);
  if (kind === 'scale' && s.merge.options?.scale !== undefined)
    throw new FmnError(`--search chooses the scale of ${s.merge.method}: do not give it`);
  const backend = await startBackend(s.backend, g);

  // the held-out part of each task's train data, tokenized once
  const prepared: PreparedData[] = [];
  const tasks: SearchReport['tasks'][number][] = [];
  for (const [j, m] of s.merge.models.entries()) {
    const d = s.data[j];
    const model = await openModel(m.dir, g);
    const dataset = await loadDataset(d.data, { task: d.task, split: 'train' });
    const n = dataset.examples.length;
    const sha = await dataHash(d.data);
    const exclude = new Set<number>(d.exclude ? sampleIndices(n, d.exclude.samples, d.exclude.seed) : []);
    for (const f of [m.fisher, m.gram])
      for (const i of recordedSamples(await metadataOf(f), sha, n)) exclude.add(i);
    if (d.rows) {
      const allowed = new Set(d.rows);
      for (let i = 0; i < n; i++) if (!allowed.has(i)) exclude.add(i);
    }
    const idx = heldOutIndices(n, s.holdout, s.seed, exclude, d.data);
    const subset = { ...dataset, examples: idx.map((i) => dataset.examples[i]) } as Dataset;
    prepared.push(await prepareDataset(model, subset, { labels: true, maxLength: s.maxLength }));
    tasks.push({
      name: s.names?.[j] ?? '',
      data: resolve(d.data),
      split: 'train',
      examples: idx.length,
      excluded: exclude.size,
      indices: idx,
    });
  }

  const candidates = searchCandidates(kind, M, { seed: s.seed, samples: s.samples });
  const scored: Scored[] = [];
  const unregister = registerLiveTemp(s.scratch);
  try {
    for (const [i, c] of candidates.entries()) {
      const dir = join(s.scratch, `candidate-${i}`);
      const rep: MergeReport = await runMerge(
        { ...withCoefficients(s.merge, kind, c.coefficients), force: true, out: dir },
        { ...g, quiet: true },
      );
      const scores: number[] = [];
      for (let j = 0; j < M; j++) {
        const m = await openModel(join(dir, rep.inputs[j].output), g);
        const session = await backend.load(m.model);
        try {
          const logits = await predictLogits(session, prepared[j], m.numLabels, s.batchSize, { quiet: true });
          scores.push(scoreLogits(prepared[j], logits, m.numLabels).score);
        } finally {
          await session.dispose();
        }
        if (!tasks[j].name) tasks[j] = { ...tasks[j], name: rep.inputs[j].output };
      }
      await rm(dir, { recursive: true, force: true });
      scored.push({ ...c, scores, mean: meanScore(scores) });
      note(
        g,
        `search ${s.merge.method} ${kind} ${c.coefficients.map((v) => v.toFixed(3)).join(', ')}: held-out ${(100 * meanScore(scores)).toFixed(2)}`,
      );
    }
  } finally {
    await rm(s.scratch, { recursive: true, force: true });
    unregister();
  }
  const best = chooseCandidate(scored);
  return {
    kind,
    objective:
      "mean over the tasks of each task's score (the mean of its metrics) with its own head on a seeded held-out part of its train split",
    tieBreak:
      kind === 'scale'
        ? 'equal means: the scale nearer 1, then the smaller scale'
        : 'equal means: the lambdas nearer the uniform point (Euclidean), then the earlier candidate',
    seed: s.seed,
    tasks,
    candidates: scored.map((c) => ({
      coefficients: c.coefficients,
      scores: Object.fromEntries(tasks.map((t, j) => [t.name, c.scores[j]])),
      mean: c.mean,
      distance: c.distance,
    })),
    chosen: { index: best, coefficients: scored[best].coefficients, mean: scored[best].mean },
  };
}
