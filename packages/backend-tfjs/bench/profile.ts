/**
 * Per-kernel profile of one maskGradients call (tf.profile), not a test: a BERT-base-width random
 * model with few layers, one batch. Prints time per kernel and the FLOPs-free share of the total.
 *
 *   pnpm exec tsx --conditions=@fmn/source bench/profile.ts [--runtime wasm] [--layers 2] [--batch 16] [--seq 128] [--convention batch]
 */
import { performance } from 'node:perf_hooks';
import type { FisherConvention } from '@fmn/core';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { createTfjsBackend, type RuntimeKind } from '../src/index.js';
import { tf } from '../src/runtime.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const L = Number(arg('layers', '2'));
const B = Number(arg('batch', '16'));
const T = Number(arg('seq', '128'));
const convention = arg('convention', 'batch') as FisherConvention;
const backend = await createTfjsBackend(arg('runtime', 'wasm') as RuntimeKind, {
  maxChunkTokens: B * T,
  attention: arg('attention', 'auto') as 'auto',
});
const model = randomEncoder('bert', {
  seed: 1,
  vocabSize: 30522,
  hidden: 768,
  numHeads: 12,
  numLayers: L,
  intermediate: 3072,
  maxPositions: 512,
  numLabels: 2,
  std: 0.02,
});
const session = await backend.load(model);
const batch = randomBatch(model, { seed: 2, size: B, seqLen: T, ragged: false });
await session.maskGradients(batch, { convention }); // warm-up
const t0 = performance.now();
const info = await tf.profile(
  () => session.maskGradients(batch, { convention }) as unknown as tf.TensorContainer,
);
const wall = performance.now() - t0;
const byKernel = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of info.kernels) {
  const ms = Number(await k.kernelTimeMs);
  const shapes = k.inputShapes.map((s) => `[${s?.join(',')}]`).join(' ');
  for (const key of [k.name, `  ${k.name} ${shapes}`]) {
    const e = byKernel.get(key) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n++;
    byKernel.set(key, e);
  }
  total += ms;
}
const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength;
if (heap) console.log(`wasm heap (its peak: it never shrinks): ${(heap / 2 ** 20).toFixed(0)} MB`);
console.log(
  `${backend.runtime}; ${L} layers, batch ${B} x ${T}, ${convention}: wall ${wall.toFixed(0)} ms, kernels ${total.toFixed(0)} ms`,
);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 45);
for (const [name, { ms, n }] of rows)
  console.log(
    `${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}% x${String(n).padEnd(4)} ${name}`,
  );
session.dispose();
