import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZooManifest, ZOO_ARCHS, zooPath, zooTasks } from './index.js';

interface TaskResults {
  dev: Record<string, number>;
  bow_baseline: Record<string, number>;
  task_vector_relative_size: number;
  held_out: { fraction: number; seed: number; by?: 'row' | 'shared-text'; rows: number[] };
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
          const target = Math.round(res.held_out.fraction * spec.train);
          if (res.held_out.by === 'shared-text') {
            // drawn by group: at least the fraction, and no train text on both sides
            expect(rows.length).toBeGreaterThanOrEqual(target);
            expect(rows.length).toBeLessThan(target + 20);
            const texts = (await readFile(join(t.folder, 'train.tsv'), 'utf8'))
              .trimEnd()
              .split('\n')
              .slice(1)
              .map((l) => l.split('\t').slice(1, -1));
            expect(texts).toHaveLength(spec.train);
            const held = new Set(rows);
            const heldTexts = new Set(rows.flatMap((r) => texts[r]));
            const both = texts.flatMap((x, r) => (held.has(r) ? [] : x.filter((s) => heldTexts.has(s))));
            expect(both).toEqual([]);
          } else expect(rows).toHaveLength(target);
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
