/** Splitting a task's examples into class-balanced train and dev sets. */
import { Rand, hashUnit } from './rng.js';
import type { BuildOptions, Example, TaskSpec, TaskSplits } from './task-spec.js';

/**
 * Groups go to dev with probability devFraction (by a hash of seed, task and group; a group holding
 * more than 2% of the task's examples always goes to train). Dev examples
 * showing a text that also occurs in train are dropped. Then each split is balanced by
 * down-sampling every class to the rarest one (regression: the five unit score bins), capped at
 * maxTrain / maxDev, and shuffled.
 */
export function splitTask(spec: TaskSpec, examples: Example[], opts: BuildOptions): TaskSplits {
  const rand = new Rand(`${opts.seed}/${spec.name}/split`);
  const train: Example[] = [];
  let dev: Example[] = [];
  const groupSize = new Map<string, number>();
  for (const e of examples) groupSize.set(e.group, (groupSize.get(e.group) ?? 0) + 1);
  for (const e of examples) {
    // a group larger than 2% of the task always stays in train, so dev is not one cluster
    if (groupSize.get(e.group)! > 0.02 * examples.length) {
      train.push(e);
      continue;
    }
    (hashUnit(`${opts.seed}/${spec.name}/${e.group}`) < opts.devFraction ? dev : train).push(e);
  }
  const trainTexts = new Set(train.flatMap((e) => e.texts));
  dev = dev.filter((e) => e.texts.every((t) => !trainTexts.has(t)));
  const classOf = (e: Example): number => (spec.numLabels === 1 ? Math.min(4, Math.floor(e.label)) : e.label);
  const k = spec.numLabels === 1 ? 5 : spec.numLabels;
  const balance = (xs: Example[], cap: number): Example[] => {
    const by: Example[][] = Array.from({ length: k }, () => []);
    for (const e of xs) by[classOf(e)].push(e);
    const n = Math.min(Math.floor(cap / k), ...by.map((l) => l.length));
    return rand.shuffle(by.flatMap((l) => rand.shuffle(l).slice(0, n)));
  };
  return { spec, train: balance(train, opts.maxTrain), dev: balance(dev, opts.maxDev) };
}
