import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readZooManifest, ZOO_ARCHS, zooPath, zooTasks } from './index.js';

interface TaskResults {
  dev: Record<string, number>;
  bow_baseline: Record<string, number>;
  task_vector_relative_size: number;
  held_out: { fraction: number; seed: number; rows: number[] };
  train: { steps: number; plannedSteps: number; keptStep: number };
}

interface Results {
  pretrain: { log: { firstLoss: number; lastLoss: number; heldOutLoss: number; passes: number } };
  tasks: Record<string, TaskResults>;
}

describe('models/<arch>/results.json (issue 14: the paper regime)', () => {
  for (const arch of ZOO_ARCHS) {
    const file = zooPath('models', arch, 'results.json');
    const built = existsSync(file);
    it.skipIf(!built)(
      `${arch}: several passes of pre-training, held-out rows kept out of fine-tuning, the bag-of-words baseline recorded beside each dev score${built ? '' : ' (skipped: not built; pnpm zoo:build)'}`,
      async () => {
        const r = JSON.parse(await readFile(file, 'utf8')) as Results;
        const manifest = await readZooManifest();
        const pre = r.pretrain.log;
        expect(pre.passes).toBeGreaterThanOrEqual(2);
        expect(pre.heldOutLoss).toBeLessThan(pre.firstLoss);
        for (const t of zooTasks) {
          const res = r.tasks[t.name];
          const spec = manifest.tasks.find((m) => m.name === t.name)!;
          // the held-out rows: distinct, ascending indices into train.tsv, the recorded fraction of it
          const rows = res.held_out.rows;
          expect(rows).toHaveLength(Math.round(res.held_out.fraction * spec.train));
          rows.forEach((x, i) => {
            expect(Number.isInteger(x) && x >= 0 && x < spec.train).toBe(true);
            if (i > 0) expect(x).toBeGreaterThan(rows[i - 1]);
          });
          // early stopping keeps a checkpoint no later than the last step taken
          expect(res.train.keptStep).toBeLessThanOrEqual(res.train.steps);
          expect(res.train.steps).toBeLessThanOrEqual(res.train.plannedSteps);
          // the baseline beside the score is data/tasks.json's, as first measured
          expect(res.bow_baseline).toEqual(spec.bow_baseline);
          expect(res.task_vector_relative_size).toBeGreaterThan(0);
        }
      },
    );
  }
});
