/**
 * Mask-Fisher benchmark (not a test): a BERT-base-shaped random model (12 layers, hidden 768,
 * 12 heads, FFN 3072, vocab 30522, 512 positions), 32 examples x 128 tokens, both conventions.
 * Reports wall time and effective GFLOP/s (forward + backward to the masks) against the
 * runtime's own matmul throughput, measured first on the encoder's matmul shapes.
 *
 *   pnpm bench [--runtime wasm|cpu|node] [--layers N] [--examples N] [--batch N] [--seq N]
 *              [--chunk N] [--runs N] [--convention batch|example|none] [--full N] [--small]
 *
 * --full N also times the full diagonal Fisher (squaredParamGradients) on N examples of the big
 * model; --small times mask Fisher and full Fisher per example on a zoo-sized model (hidden 128,
 * 2 layers, 4 heads, FFN 256, 64 tokens) instead of the big one.
 *
 * Other processes share the cores: the 1-minute load average is printed with every run, and
 * with --runs N the best of N runs is reported.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { computeMaskFisher, type Batch, type FisherConvention } from '@fmn/core';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { createTfjsBackend, defaultChunkTokens, type RuntimeKind } from '../src/index.js';
import { tf } from '../src/runtime.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const num = (name: string, fallback: number) => Number(arg(name, String(fallback)));

const small = process.argv.includes('--small');
const kind = arg('runtime', 'wasm') as RuntimeKind;
const L = num('layers', small ? 2 : 12);
const hidden = small ? 128 : 768;
const heads = small ? 4 : 12;
const I = small ? 256 : 3072;
const vocab = small ? 4000 : 30522;
const T = num('seq', small ? 64 : 128);
const examples = num('examples', 32);
const batchSize = num('batch', 32);
const chunkArg = process.argv.includes('--chunk') ? num('chunk', 0) : undefined;
const runs = num('runs', 1);
const full = num('full', small ? examples : 0);
const only = arg('convention', '');
const load = () => loadavg()[0].toFixed(2);

/**
 * FLOPs of one example (multiply-add = 2): forward linears and attention, plus the backward pass
 * to the masks (input gradients only: one matmul per linear, two per attention product).
 */
function flopsPerExample(): number {
  const linears = 2 * T * (4 * hidden * hidden + 2 * hidden * I);
  const attention = 2 * 2 * T * T * hidden;
  return L * (linears * 2 + attention * 3);
}

/**
 * GFLOP/s of x[m,k] @ w[k,n] (plain 2D matmul, tfjs's fast path), best of 3 after a warm-up, by
 * wall time and by this process's CPU time (other processes share the cores: CPU time is what
 * the work itself cost).
 */
function matmulGflops(m: number, k: number, n: number): { wall: number; cpu: number } {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < 4; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const secs = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(c0);
    c.dispose();
    if (r > 0) {
      // the first call warms up
      wall = Math.min(wall, secs);
      cpu = Math.min(cpu, (used.user + used.system) / 1e6);
    }
  }
  tf.dispose([a, b]);
  const flops = 2 * m * k * n;
  return { wall: flops / wall / 1e9, cpu: flops / cpu / 1e9 };
}

/** Matmul throughput on the encoder's shapes, weighted by their FLOPs in a layer. */
function matmulMix(rows: number): { wall: number; cpu: number } {
  const shapes: [number, number, number][] = [
    [rows, hidden, hidden],
    [rows, hidden, I],
    [rows, I, hidden],
  ];
  const rates = shapes.map(([m, k, n]) => matmulGflops(m, k, n));
  const w = [4 * hidden * hidden, hidden * I, hidden * I];
  const mix = (key: 'wall' | 'cpu') =>
    w.reduce((x, y) => x + y, 0) / w.reduce((x, wi, i) => x + wi / rates[i][key], 0);
  const out = { wall: mix('wall'), cpu: mix('cpu') };
  console.log(
    `matmul throughput, [${rows} x ${hidden}|${I}] rows: ` +
      shapes.map(([m, k, n], i) => `[${m}x${k}]@[${k}x${n}] ${rates[i].cpu.toFixed(1)}`).join(', ') +
      ` GFLOP per CPU-second; encoder mix ${out.cpu.toFixed(1)} per CPU-second, ${out.wall.toFixed(1)} GFLOP/s wall; load average ${load()}`,
  );
  return out;
}

function split(all: Batch): Batch[] {
  const out: Batch[] = [];
  for (let s = 0; s < all.size; s += batchSize) {
    const n = Math.min(batchSize, all.size - s);
    out.push({
      size: n,
      seqLen: T,
      inputIds: all.inputIds.slice(s * T, (s + n) * T),
      attentionMask: all.attentionMask.slice(s * T, (s + n) * T),
      tokenTypeIds: all.tokenTypeIds?.slice(s * T, (s + n) * T),
      labels: all.labels!.slice(s, s + n),
    });
  }
  return out;
}

async function main() {
  let t0 = performance.now();
  const model = randomEncoder('bert', {
    seed: 1,
    vocabSize: vocab,
    hidden,
    numHeads: heads,
    numLayers: L,
    intermediate: I,
    maxPositions: 512,
    numLabels: 2,
    std: 0.02,
  });
  const chunk = chunkArg ?? defaultChunkTokens(model);
  const backend = await createTfjsBackend(kind, { maxChunkTokens: chunk });
  console.log(
    `${backend.runtime}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  // the runtime's matmul throughput: on 2048 rows (its best) and on one chunk's rows
  const rows = Math.min(Math.max(T, Math.floor(chunk / T) * T), batchSize * T);
  const peak = matmulMix(2048);
  if (rows !== 2048) matmulMix(rows);
  const matmul = peak.cpu;

  const batches = split(randomBatch(model, { seed: 2, size: examples, seqLen: T, ragged: false }));
  const session = await backend.load(model);
  console.log(
    `model: ${L} layers, hidden ${hidden}, ${heads} heads, FFN ${I}, vocab ${vocab} (${((performance.now() - t0) / 1000).toFixed(1)} s to generate and upload); ` +
      `${examples} examples x ${T} tokens, batches of ${batchSize}, chunks of ${chunk} tokens`,
  );
  const flops = flopsPerExample() * examples;
  const conventions = (only === 'none' ? [] : only ? [only] : ['batch', 'example']) as FisherConvention[];
  for (const convention of conventions) {
    // warm-up on a full batch: the first pass at a shape grows the wasm heap and packs weights
    await session.maskGradients(batches[0], { convention });
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      const before = load();
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      const fisher = await computeMaskFisher(session, batches, convention);
      const secs = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuSecs = (cpu.user + cpu.system) / 1e6;
      best = Math.min(best, secs);
      const sum = fisher.head.reduce((a, b) => a + b, 0);
      console.log(
        `${convention.padEnd(7)} run ${r + 1}: ${secs.toFixed(2)} s for the mask Fisher (${(secs / examples).toFixed(4)} s per example; ` +
          `${(flops / 1e12).toFixed(3)} TFLOP, ${(flops / secs / 1e9).toFixed(1)} GFLOP/s wall, ${(flops / cpuSecs / 1e9).toFixed(1)} GFLOP per CPU-second ` +
          `= ${((100 * flops) / cpuSecs / 1e9 / matmul).toFixed(0)}% of matmul); ` +
          `load average ${before} -> ${load()}, ${(cpuSecs / secs).toFixed(2)} cores used; sum head F = ${sum.toExponential(3)}`,
      );
    }
    if (runs > 1)
      console.log(
        `${convention.padEnd(7)} best: ${best.toFixed(2)} s, ${(flops / best / 1e9).toFixed(1)} GFLOP/s`,
      );
  }
  if (full > 0) {
    // full diagonal Fisher (METHOD.md section 4): one backward pass per example through every parameter
    const some = split(randomBatch(model, { seed: 4, size: full, seqLen: T, ragged: false }));
    await session.squaredParamGradients(
      split(randomBatch(model, { seed: 3, size: 1, seqLen: T, ragged: false }))[0],
    ); // warm-up
    const before = load();
    t0 = performance.now();
    for (const b of some) await session.squaredParamGradients(b);
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `full Fisher: ${secs.toFixed(2)} s for ${full} examples (${(secs / full).toFixed(4)} s per example); load average ${before} -> ${load()}`,
    );
  }
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength;
  if (heap)
    console.log(`wasm heap at the end (its peak: it never shrinks): ${(heap / 2 ** 20).toFixed(0)} MB`);
  session.dispose();
}

await main();
