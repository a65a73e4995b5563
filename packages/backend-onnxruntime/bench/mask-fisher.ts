/**
 * Mask-Fisher benchmark (not a test): a BERT-base-shaped random model (12 layers, hidden 768,
 * 12 heads, FFN 3072, vocab 30522, 512 positions), 128 examples x 128 tokens in batches of 32,
 * both conventions. Reports wall time and effective GFLOP/s (forward + backward to the masks).
 *
 *   pnpm bench [--layers N] [--examples N] [--batch N] [--seq N] [--threads N] [--runs N] [--convention batch|example|none] [--full N]
 *
 * --full N also times the full diagonal Fisher (squaredParamGradients) on N examples.
 *
 * Other processes share the cores: the 1-minute load average is printed before and after each
 * run, and with --runs N the best of N runs is reported.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { computeMaskFisher, type Batch, type FisherConvention } from '@fmn/core';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from '../src/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const L = arg('layers', 12);
const examples = arg('examples', 128);
const batchSize = arg('batch', 32);
const T = arg('seq', 128);
const threads = arg('threads', availableParallelism());
const runs = arg('runs', 1);
const only = process.argv.includes('--convention')
  ? process.argv[process.argv.indexOf('--convention') + 1]
  : undefined;
const load = () => loadavg()[0].toFixed(2);
const hidden = 768;
const I = 3072;

/**
 * FLOPs of one example (multiply-add = 2): forward linears and attention, plus the backward pass
 * to the masks (input gradients only: one matmul per linear, two per attention product).
 */
function flopsPerExample(): number {
  const linears = 2 * T * (4 * hidden * hidden + 2 * hidden * I);
  const attention = 2 * 2 * T * T * hidden;
  return L * (linears + attention) * 2 + L * attention;
}

async function main() {
  let t0 = performance.now();
  const model = randomEncoder('bert', {
    seed: 1,
    vocabSize: 30522,
    hidden,
    numHeads: 12,
    numLayers: L,
    intermediate: I,
    maxPositions: 512,
    numLabels: 2,
    std: 0.02,
  });
  console.log(`random model: ${L} layers, ${((performance.now() - t0) / 1000).toFixed(1)} s to generate`);
  const all = randomBatch(model, { seed: 2, size: examples, seqLen: T, ragged: false });
  const batches: Batch[] = [];
  for (let s = 0; s < examples; s += batchSize) {
    const n = Math.min(batchSize, examples - s);
    batches.push({
      size: n,
      seqLen: T,
      inputIds: all.inputIds.slice(s * T, (s + n) * T),
      attentionMask: all.attentionMask.slice(s * T, (s + n) * T),
      tokenTypeIds: all.tokenTypeIds?.slice(s * T, (s + n) * T),
      labels: all.labels!.slice(s, s + n),
    });
  }
  const backend = await createOnnxRuntimeBackend({ intraOpNumThreads: threads });
  console.log(`${backend.runtime}; ${examples} examples x ${T} tokens, batch ${batchSize}`);
  const session = await backend.load(model);
  const flops = flopsPerExample() * examples;
  for (const convention of (only === 'none'
    ? []
    : only
      ? [only]
      : ['batch', 'example']) as FisherConvention[]) {
    // session creation (graph build, protobuf, ORT optimisation) on a one-example batch
    t0 = performance.now();
    await session.maskGradients(
      {
        ...batches[0],
        size: 1,
        inputIds: batches[0].inputIds.slice(0, T),
        attentionMask: batches[0].attentionMask.slice(0, T),
        tokenTypeIds: batches[0].tokenTypeIds?.slice(0, T),
        labels: batches[0].labels!.slice(0, 1),
      },
      { convention },
    );
    const setup = (performance.now() - t0) / 1000;
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      const before = load();
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      const fisher = await computeMaskFisher(session, batches, convention);
      const secs = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      // cores this process actually got (user + system CPU time over wall time)
      const cores = (cpu.user + cpu.system) / 1e6 / secs;
      best = Math.min(best, secs);
      const sum = fisher.head.reduce((a, b) => a + b, 0);
      console.log(
        `${convention.padEnd(7)} run ${r + 1}: ${secs.toFixed(1)} s for the mask Fisher (${(flops / 1e12).toFixed(2)} TFLOP, ` +
          `${(flops / secs / 1e9).toFixed(0)} GFLOP/s); load average ${before} -> ${load()}, ${cores.toFixed(2)} cores used; sum head F = ${sum.toExponential(3)}`,
      );
    }
    console.log(
      `${convention.padEnd(7)} best: ${best.toFixed(1)} s, ${(flops / best / 1e9).toFixed(0)} GFLOP/s; session setup ${setup.toFixed(1)} s`,
    );
  }
  const full = arg('full', 0);
  if (full > 0) {
    // full diagonal Fisher (METHOD.md section 4): one example at a time through the parameter-gradient graph
    const one = {
      ...batches[0],
      size: full,
      inputIds: batches[0].inputIds.slice(0, full * T),
      attentionMask: batches[0].attentionMask.slice(0, full * T),
      tokenTypeIds: batches[0].tokenTypeIds?.slice(0, full * T),
      labels: batches[0].labels!.slice(0, full),
    };
    t0 = performance.now();
    await session.squaredParamGradients!({
      ...one,
      size: 1,
      inputIds: one.inputIds.slice(0, T),
      attentionMask: one.attentionMask.slice(0, T),
      tokenTypeIds: one.tokenTypeIds?.slice(0, T),
      labels: one.labels.slice(0, 1),
    });
    const setup = (performance.now() - t0) / 1000;
    const before = load();
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    await session.squaredParamGradients!(one);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `full Fisher: ${secs.toFixed(1)} s for ${full} examples (${(secs / full).toFixed(2)} s per example; first call incl. session ${setup.toFixed(1)} s); ` +
        `load average ${before} -> ${load()}, ${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)} cores used`,
    );
  }
  await session.dispose();
}

await main();
