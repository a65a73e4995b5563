/**
 * Training-step benchmark (not a test): seconds per AdamW step of Backend.createTrainer on a
 * random model, on one backend per process (the root `pnpm bench --only train` runs it for
 * tfjs-wasm and onnxruntime side by side and prints the ratio).
 *
 *   tsx --conditions=@fmn/source bench/train-step.ts --backend onnxruntime|tfjs-wasm
 *       [--shape zoo|bert-base] [--head classification|masked-lm] [--batch 32] [--seq 64]
 *       [--steps 5] [--threads N] [--json]
 *
 * Shapes: `zoo` is zoo-build's DEFAULT_SHAPE (hidden 128, 2 layers, 4 heads, FFN 256, vocab 5000);
 * `bert-base` 12 layers, hidden 768, 12 heads, FFN 3072, vocab 30522. One untimed step first
 * (session creation, allocation), then the mean of `steps` timed steps. Masked-LM batches select
 * 15% of the tokens. Effective GFLOP/s counts the matmul work of forward + backward (3x forward).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Backend, TrainBatch } from '@fmn/core';
import { createTfjsBackend } from '@fmn/backend-tfjs';
import { maskedLmBatch, randomBatch, randomEncoder, withMaskedLmHead } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from '../src/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const SHAPES = {
  zoo: { hidden: 128, numLayers: 2, numHeads: 4, intermediate: 256, vocabSize: 5000, maxPositions: 64 },
  'bert-base': {
    hidden: 768,
    numLayers: 12,
    numHeads: 12,
    intermediate: 3072,
    vocabSize: 30522,
    maxPositions: 512,
  },
};

const backendName = arg('backend', 'onnxruntime');
const shapeName = arg('shape', 'zoo') as keyof typeof SHAPES;
const head = arg('head', 'classification');
const B = Number(arg('batch', '32'));
const T = Number(arg('seq', '64'));
const steps = Number(arg('steps', '5'));
const threads = Number(arg('threads', String(availableParallelism())));

async function backendOf(name: string): Promise<Backend> {
  if (name === 'onnxruntime') return createOnnxRuntimeBackend({ intraOpNumThreads: threads });
  if (name === 'tfjs-wasm') return createTfjsBackend('wasm');
  throw new Error(`unknown backend ${name} (onnxruntime or tfjs-wasm)`);
}

async function main() {
  const shape = SHAPES[shapeName];
  if (!shape) throw new Error(`unknown shape ${shapeName} (zoo or bert-base)`);
  const mlm = head === 'masked-lm';
  const base = randomEncoder('bert', { seed: 1, ...shape, numLabels: mlm ? 0 : 2, std: 0.02 });
  const model = mlm ? withMaskedLmHead(base, 2) : base;
  const batch: TrainBatch = mlm
    ? maskedLmBatch(model, { seed: 3, size: B, seqLen: T, rate: 0.15 })
    : randomBatch(model, { seed: 3, size: B, seqLen: T, ragged: false });
  const backend = await backendOf(backendName);
  const trainer = await backend.createTrainer!(model, { lr: 1e-4, totalSteps: steps + 1, weightDecay: 0.01 });
  const load0 = loadavg()[0];
  let t0 = performance.now();
  await trainer.step(batch);
  const first = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(batch);
  const perStep = (performance.now() - t0) / 1000 / steps;
  await trainer.dispose();
  // matmul FLOPs of one forward pass (multiply-add = 2), times 3 for forward + backward
  const { hidden: h, numLayers: L, intermediate: I, vocabSize: V } = shape;
  const tokens = B * T;
  const layer = 2 * tokens * (4 * h * h + 2 * h * I) + 2 * 2 * B * T * T * h;
  const labelled = mlm ? batch.tokenLabels!.filter((y) => y !== -100).length : 0;
  const headFlops = mlm ? 2 * labelled * (h * h + h * V) : 0;
  const gflops = (3 * (L * layer + headFlops)) / perStep / 1e9;
  const result = {
    backend: backendName,
    runtime: trainer.runtime,
    shape: shapeName,
    head,
    batch: `${B}x${T}`,
    secondsPerStep: perStep,
    firstStepSeconds: first,
    gflops,
    load: `${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`,
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else
    console.log(
      `${backendName} (${trainer.runtime}) ${shapeName} ${head} ${B}x${T}: ${perStep.toFixed(3)} s/step ` +
        `(first ${first.toFixed(2)} s), ~${gflops.toFixed(1)} GFLOP/s, load ${result.load}`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
