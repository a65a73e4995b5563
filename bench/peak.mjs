/**
 * The machine's fp32 ceilings, for reading the other figures against (`pnpm bench --only peak`):
 * onnxruntime's own MatMul and Gemm on the encoder's largest shapes at 1 and 2 threads (the fastest
 * any onnxruntime graph of these shapes can go), and, when a C compiler is found, the FMA peak of
 * one core and of all cores at once (bench/peak-fma.c).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/** [M, K, N] of a BERT-base layer's matmuls over 2048 tokens (the backend's token-bounded chunk). */
export const PEAK_SHAPES = [
  [2048, 768, 3072], // FFN up
  [2048, 3072, 768], // FFN down
  [2048, 768, 768], // attention projections
];

async function ortMatmul(root, threads, [M, K, N], op, reps) {
  const require = createRequire(join(root, 'packages/backend-onnxruntime/package.json'));
  const ort = require('onnxruntime-node');
  const { Graph } = await import(join(root, 'packages/onnx/dist/graph.js'));
  const g = new Graph();
  const a = g.input('a', 'float32', [M, K]);
  const b = g.input('b', 'float32', [K, N]);
  g.output(op === 'Gemm' ? g.gemm(a, b, undefined, false) : g.matmul(a, b));
  const session = await ort.InferenceSession.create(
    g.toModel(() => undefined),
    { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' },
  );
  const fill = (n) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const feeds = {
    a: new ort.Tensor('float32', fill(M * K), [M, K]),
    b: new ort.Tensor('float32', fill(K * N), [K, N]),
  };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await session.run(feeds);
  const seconds = (performance.now() - t0) / 1000 / reps;
  await session.release();
  return (2 * M * K * N) / seconds / 1e9;
}

function fmaPeak(root) {
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!cc) return { why: 'no C compiler (cc, gcc, clang) found' };
  const dir = mkdtempSync(join(tmpdir(), 'fmn-peak-'));
  try {
    const exe = join(dir, 'peak-fma');
    const c = spawnSync(cc, ['-O2', '-march=native', join(root, 'bench/peak-fma.c'), '-o', exe], {
      encoding: 'utf8',
    });
    if (c.status !== 0) return { why: `${cc} failed: ${c.stderr.trim().split('\n').pop()}` };
    const one = spawnSync(exe, { encoding: 'utf8' });
    const [perCore, bits] = one.stdout.trim().split(' ').map(Number);
    // all cores at once: one process per core, each timed by itself
    const n = cpus().length;
    const all = Array.from(
      { length: n },
      () =>
        new Promise((resolve) => {
          const p = spawn(exe);
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.on('close', () => resolve(Number(out.trim().split(' ')[0])));
        }),
    );
    return {
      perCore,
      vectorBits: bits,
      allCores: Promise.all(all).then((xs) => xs.reduce((s, x) => s + x, 0)),
    };
  } finally {
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 60_000).unref();
  }
}

/** Prints the ceilings; returns the FMA peak of all cores at once (GFLOP/s), when measured. */
export async function measurePeak(root, record) {
  console.log(`\n[0] machine ceilings (fp32)`);
  const fma = fmaPeak(root);
  let peak;
  if (fma.why) console.log(`  FMA peak: not measured (${fma.why})`);
  else {
    const all = await fma.allCores;
    console.log(
      `  FMA peak (${fma.vectorBits}-bit vectors): ${fma.perCore.toFixed(1)} GFLOP/s on one core, ${all.toFixed(1)} on ${cpus().length} at once`,
    );
    record({ label: 'fma peak GFLOP/s', perCore: fma.perCore, allCores: all });
    peak = all;
  }
  for (const threads of [1, 2]) {
    for (const shape of PEAK_SHAPES) {
      const best = Math.max(
        await ortMatmul(root, threads, shape, 'MatMul', 10),
        await ortMatmul(root, threads, shape, 'Gemm', 10),
      );
      console.log(
        `  onnxruntime MatMul/Gemm [${shape[0]}x${shape[1]}]x[${shape[1]}x${shape[2]}], ${threads} thread(s): ${best.toFixed(1)} GFLOP/s`,
      );
      record({ label: `onnxruntime matmul GFLOP/s`, threads, shape, gflops: best });
    }
  }
  return peak;
}

/**
 * Floating-point operations of one mask-Fisher pass over `examples` x `tokens` on an encoder of
 * `layers` x (hidden H, intermediate I), counting matmuls only, as the onnxruntime graph runs them
 * (packages/onnx encoder-graph.ts): every layer's Q, K, V, output, FFN up and down projections and
 * attention products forward, then their input gradients backward (both operands of the attention
 * products); the last layer only at token 0 (the heads read nothing else) apart from its K and V,
 * and no input gradient for layer 0's Q, K, V (no mask lies below them). Weight gradients are
 * never formed.
 */
export function maskFisherFlops({ layers, hidden: H, intermediate: I }, examples, T) {
  const dense = T * (8 * H * H + 4 * H * I); // Q, K, V, output, FFN: 2 flops per weight per token
  const full = { forward: dense + 4 * T * T * H, backward: dense + 8 * T * T * H };
  // last layer: K and V for all tokens; Q, attention, output and FFN for token 0
  const last = {
    forward: 4 * T * H * H + 4 * H * H + 4 * T * H + 4 * H * I,
    backward: 4 * T * H * H + 4 * H * H + 8 * T * H + 4 * H * I,
  };
  const perExample =
    (layers - 1) * (full.forward + full.backward) + last.forward + last.backward - 6 * T * H * H;
  return perExample * examples;
}
