import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint, writeGramFile } from '@fmn/core';
import { fakeAdapterFor, fakeShapes, writeFakeModel } from '../../test/fake.js';
import { merge, outputNames } from '../index.js';
import { regmeanSolve } from './regmean.js';

/** (sum_j l_j W_j G'_j)(sum_j l_j G'_j)^-1 by Gauss-Jordan inversion (independent of the Cholesky solve). */
function expected(
  Ws: Float64Array[],
  Gs: Float64Array[],
  lambdas: number[],
  out: number,
  n: number,
  a: number,
) {
  const S = new Float64Array(n * n);
  const A = new Float64Array(out * n);
  Gs.forEach((G, j) => {
    const Gp = G.map((v, i) => (Math.floor(i / n) === i % n ? v : a * v));
    for (let i = 0; i < n * n; i++) S[i] += lambdas[j] * Gp[i];
    for (let o = 0; o < out; o++)
      for (let c = 0; c < n; c++)
        for (let k = 0; k < n; k++) A[o * n + c] += lambdas[j] * Ws[j][o * n + k] * Gp[k * n + c];
  });
  // [S | I] -> [I | S^-1]
  const M = Array.from({ length: n }, (_, r) => [
    ...S.subarray(r * n, r * n + n),
    ...Array.from({ length: n }, (_, c) => (c === r ? 1 : 0)),
  ]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const d = M[c][c];
    M[c] = M[c].map((v) => v / d);
    for (let r = 0; r < n; r++) if (r !== c) M[r] = M[r].map((v, k) => v - M[r][c] * M[c][k]);
  }
  const out2 = new Float64Array(out * n);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < n; c++) for (let k = 0; k < n; k++) out2[o * n + c] += A[o * n + k] * M[k][n + c];
  return out2;
}

const f32 = (...v: number[]) => Float32Array.from(v);

describe('regmeanSolve', () => {
  it('hand-computed: each input feature comes from the model that sees it', () => {
    const w = regmeanSolve([f32(1, 0), f32(0, 1)], [f32(2, 0, 0, 0), f32(0, 0, 0, 4)], [1, 1], 1, 2, 1);
    expect([...w]).toEqual([1, 1]);
  });

  it('hand-computed with off-diagonal entries scaled by alpha', () => {
    // G1 = [[2,2],[2,2]], G2 = I, a = 0.5:
    // G'1 = [[2,1],[1,2]], G'2 = I, S = [[3,1],[1,3]], A = [1,0] G'1 = [2,1], W* = A S^-1 = [5/8, 1/8]
    const w = regmeanSolve([f32(1, 0), f32(0, 0)], [f32(2, 2, 2, 2), f32(1, 0, 0, 1)], [1, 1], 1, 2, 0.5);
    expect(w[0]).toBeCloseTo(5 / 8, 7);
    expect(w[1]).toBeCloseTo(1 / 8, 7);
  });

  it('a feature no model sees takes the plain mean', () => {
    const w = regmeanSolve([f32(2, 4), f32(6, 8)], [f32(1, 0, 0, 0), f32(3, 0, 0, 0)], [1, 1], 1, 2, 0.9);
    // column 0: (2*1 + 6*3) / 4 = 5; column 1: (4 + 8) / 2 = 6
    expect([...w]).toEqual([5, 6]);
  });

  it('matches a float64 Gauss-Jordan computation on random weights, Grams and lambdas', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const out = 3;
    const n = 4;
    const Ws = [0, 1].map(() => Float32Array.from({ length: out * n }, rnd));
    const Gs = [0, 1].map(() => {
      const X = Array.from({ length: 6 * n }, rnd); // 6 tokens
      return Float32Array.from({ length: n * n }, (_, i) => {
        let v = 0;
        for (let t = 0; t < 6; t++) v += X[t * n + Math.floor(i / n)] * X[t * n + (i % n)];
        return v;
      });
    });
    const lambdas = [1, 2];
    const got = regmeanSolve(Ws, Gs, lambdas, out, n, 0.9);
    const want = expected(
      Ws.map((w) => Float64Array.from(w)),
      Gs.map((g) => Float64Array.from(g)),
      lambdas,
      out,
      n,
      0.9,
    );
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i])));
  });

  it('a singular summed Gram (alpha 1, dependent inputs) is an FmnError suggesting alpha below 1', () => {
    expect(() =>
      regmeanSolve([f32(1, 1), f32(1, 1)], [f32(1, 1, 1, 1), f32(2, 2, 2, 2)], [1, 1], 1, 2, 1),
    ).toThrow(/not positive definite.*--regmean-alpha below 1/);
  });
});

describe('merge --method regmean', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmn-regmean-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('merges the weights with Grams by RegMean, the rest by the plain mean, heads kept', async () => {
    const shapes = new Map(fakeShapes());
    const dirs = [join(root, 'a'), join(root, 'b')];
    const values = [await writeFakeModel(dirs[0], { seed: 1 }), await writeFakeModel(dirs[1], { seed: 2 })];
    const target = 'layer.0.q.weight';
    const [out, n] = shapes.get(target)!;
    const grams = [0, 1].map((j) =>
      Float32Array.from({ length: n * n }, (_, i) =>
        Math.floor(i / n) === i % n ? 2 + j + (i % 3) : 0.1 * (j + 1),
      ),
    );
    const gramFiles = await Promise.all(
      [0, 1].map(async (j) => {
        const p = join(root, `g${j}.safetensors`);
        await writeGramFile(p, new Map([[target, grams[j]]]), 5);
        return p;
      }),
    );
    const dest = join(root, 'out');
    await merge({
      method: 'regmean',
      models: dirs.map((dir, j) => ({ dir, gram: gramFiles[j] })),
      out: dest,
      adapterFor: fakeAdapterFor,
    });
    const want = expected(
      values.map((v) => Float64Array.from(v.get(target)!)),
      grams.map((g) => Float64Array.from(g)),
      [1, 1],
      out,
      n,
      0.9,
    );
    const ckpt = await Checkpoint.open(join(dest, outputNames(dirs)[0]));
    try {
      const got = await ckpt.readFloat32(target);
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i])));
      const bias = await ckpt.readFloat32('layer.0.q.bias');
      const mean = values[0]
        .get('layer.0.q.bias')!
        .map((v, i) => (v + values[1].get('layer.0.q.bias')![i]) / 2);
      for (let i = 0; i < mean.length; i++) expect(bias[i]).toBeCloseTo(mean[i], 6);
    } finally {
      await ckpt.close();
    }
  });

  it('refuses a missing Gram file and Gram files naming other tensors', async () => {
    const dirs = [join(root, 'a'), join(root, 'b')];
    for (const [j, d] of dirs.entries()) await writeFakeModel(d, { seed: j + 1 });
    await expect(
      merge({
        method: 'regmean',
        models: dirs.map((dir) => ({ dir })),
        out: join(root, 'o1'),
        adapterFor: fakeAdapterFor,
      }),
    ).rejects.toThrow(/needs a Gram file for every model/);
    const p = join(root, 'head.safetensors');
    await writeGramFile(p, new Map([['head.weight', new Float32Array(16 * 16).fill(1)]]), 1);
    await expect(
      merge({
        method: 'regmean',
        models: dirs.map((dir) => ({ dir, gram: p })),
        out: join(root, 'o2'),
        adapterFor: fakeAdapterFor,
      }),
    ).rejects.toThrow(/names no merged tensor/);
  });
});
