/**
 * Shared by the merge engine's tests (src/merge-*.test.ts): a temp root per test, the fake
 * architecture's models and Fisher files, merge() with the fake adapter, and error expectations.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { Checkpoint, isFmnError, type DType } from '@fmn/core';
import {
  fakeAdapterFor,
  fakeShapes,
  writeFakeMaskFisher,
  writeFakeModel,
  type FakeModelOptions,
} from './fake.js';
import { merge, type MergeOptions, type MergeReport } from '../src/index.js';

/** this test's temp folder (a live binding: a fresh one for every test) */
export let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-merge-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

export const constant = (v: number) => (_: string, shape: number[]) =>
  new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v);
export const encoderNames = fakeShapes()
  .map(([n]) => n)
  .filter((n) => !n.startsWith('head.'));

export async function model(
  name: string,
  o: FakeModelOptions = {},
): Promise<{ dir: string; values: Map<string, Float32Array> }> {
  const dir = join(root, name);
  return { dir, values: await writeFakeModel(dir, o) };
}

export async function maskFisher(name: string, head: number[][], neuron: number[][]): Promise<string> {
  const p = join(root, `${name}.fisher.safetensors`);
  await writeFakeMaskFisher(p, head, neuron);
  return p;
}

export type RunOptions = Omit<MergeOptions, 'out' | 'adapterFor'> & { out?: string };
export async function run(o: RunOptions): Promise<{ report: MergeReport; out: string }> {
  const out = o.out ?? join(root, 'out');
  const report = await merge({ ...o, out, adapterFor: fakeAdapterFor });
  return { report, out };
}

export async function readOut(dir: string): Promise<Map<string, { dtype: DType; values: Float32Array }>> {
  const c = await Checkpoint.open(dir);
  try {
    const m = new Map<string, { dtype: DType; values: Float32Array }>();
    for (const n of c.names()) m.set(n, { dtype: c.info(n).dtype, values: await c.readFloat32(n) });
    return m;
  } finally {
    await c.close();
  }
}

export async function expectFmnError(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isFmnError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return e as Error;
  }
  throw new Error('expected an FmnError');
}

export const HEAD_A = [
  [1, 2],
  [3, 4],
];
export const NEURON_A = [
  [1, 2, 3],
  [4, 5, 6],
];
export const HEAD_B = [
  [2, 2],
  [1, 1],
];
export const NEURON_B = [
  [1, 1, 1],
  [2, 2, 2],
];
