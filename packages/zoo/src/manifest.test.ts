import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { readZooManifest, zooPath, zooTasks } from './index.js';

describe('readZooManifest', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fmn-zoo-manifest-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('lists the shipped tasks: the ones with models are zooTasks, in order; similarity is data only', async () => {
    const m = await readZooManifest();
    expect(m.seed).toBe('fmn-zoo-1');
    const withModels = m.tasks.filter((t) => t.models);
    expect(withModels.map((t) => t.name)).toEqual(zooTasks.map((t) => t.name));
    for (const [i, t] of withModels.entries()) {
      const z = zooTasks[i];
      expect(t.kind).toBe(z.kind);
      expect(t.numLabels).toBe(z.num_labels);
      expect(t.labels).toEqual(z.label_names);
      expect(t.metric).toBe(z.metric);
      expect(t.textColumns).toEqual(z.text_columns);
      expect(t.folder).toBe(z.folder);
    }
    expect(m.tasks.filter((t) => !t.models).map((t) => t.name)).toEqual(['similarity']);
    expect(m.tasks.find((t) => t.name === 'similarity')?.folder).toBe(zooPath('data', 'similarity'));
  });

  it('reads a zoo-shaped folder elsewhere, resolving folders against it', async () => {
    const root = join(tmp, 'zoo');
    await mkdir(join(root, 'data'), { recursive: true });
    const task = {
      name: 'two',
      analogue: 'SST-2',
      kind: 'single',
      textColumns: ['sentence'],
      labels: ['a', 'b'],
      numLabels: 2,
      metric: 'accuracy',
      train: 10,
      dev: 4,
    };
    await writeFile(join(root, 'data', 'tasks.json'), JSON.stringify({ seed: 's', tasks: [task] }));
    const m = await readZooManifest(root);
    expect(m.tasks).toHaveLength(1);
    expect(m.tasks[0].folder).toBe(join(root, 'data', 'two'));
    expect(m.tasks[0].models).toBe(true);
    expect(m.tasks[0].bow_baseline).toEqual({});
  });

  it.each([
    ['missing', undefined, /cannot read the zoo manifest/],
    ['not JSON', '{', /not JSON/],
    ['no tasks', JSON.stringify({ seed: 's' }), /"tasks" array/],
    [
      'a bad kind',
      JSON.stringify({ seed: 's', tasks: [{ kind: 'triple' }] }),
      /tasks\[0\]: unknown kind "triple"/,
    ],
  ])('refuses a manifest that is %s, naming the file', async (name, text, message) => {
    const root = join(tmp, name.replace(/ /g, '-'));
    await mkdir(join(root, 'data'), { recursive: true });
    if (text !== undefined) await writeFile(join(root, 'data', 'tasks.json'), text);
    const e = await readZooManifest(root).catch((x: unknown) => x);
    expect(isFmnError(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
    expect((e as Error).message).toContain(join(root, 'data', 'tasks.json'));
  });
});
