/**
 * `fmn run`'s coefficient search for a method entry with `search: true`: each task's held-out
 * examples come from its Fisher data (train split), leaving out the examples the run's Fisher and
 * Gram files use (the plan's samples and seed), and only from the task's `searchRows` when given.
 */
import type { MergeCliOptions } from '../commands/merge.js';
import type { ProgressOptions } from '../progress.js';
import type { PlanTask, RunPlan } from '../runconfig.js';
import { runSearch, withCoefficients, type SearchReport } from './run-search.js';

export async function searchForPlan(
  plan: RunPlan,
  combo: readonly PlanTask[],
  merge: Omit<MergeCliOptions, 'out' | 'force'>,
  scratch: string,
  g: ProgressOptions,
): Promise<{ merge: Omit<MergeCliOptions, 'out' | 'force'>; search: SearchReport }> {
  const search = await runSearch(
    {
      merge,
      data: combo.map((t) => ({
        data: t.fisherData,
        task: t.task,
        exclude: { samples: plan.fisher.samples, seed: plan.fisher.seed },
        rows: t.searchRows,
      })),
      names: combo.map((t) => t.name),
      holdout: plan.search.holdout,
      seed: plan.search.seed,
      samples: plan.search.samples,
      backend: plan.backend,
      batchSize: plan.eval.batchSize,
      maxLength: plan.eval.maxLength,
      scratch,
    },
    g,
  );
  return { merge: withCoefficients(merge, search.kind, search.chosen.coefficients), search };
}
