/**
 * BERT-large-sized load check (not a test): a random 24-layer, hidden-1024, 16-head, FFN-4096
 * encoder (335M parameters, 1.3 GB of float32) goes through the logits and mask-gradient graphs
 * on one small batch. Its weights are external data handed to ONNX Runtime in memory, so no
 * protobuf limit applies.
 *
 *   pnpm exec tsx --conditions=@fmn/source bench/load-large.ts
 */
import { performance } from 'node:perf_hooks';
import { encoderParams } from '@fmn/core';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { createOnnxRuntimeBackend } from '../src/index.js';

const gb = (n: number) => (n / 2 ** 30).toFixed(2);
let t0 = performance.now();
const model = randomEncoder('bert', {
  seed: 1,
  vocabSize: 30522,
  hidden: 1024,
  numHeads: 16,
  numLayers: 24,
  intermediate: 4096,
  maxPositions: 512,
  numLabels: 3,
  std: 0.02,
});
const params = encoderParams(model);
const count = params.reduce((n, p) => n + p.data.length, 0);
console.log(
  `random model: ${(count / 1e6).toFixed(0)}M parameters (${gb(count * 4)} GB), ${((performance.now() - t0) / 1000).toFixed(1)} s to generate`,
);
const backend = await createOnnxRuntimeBackend();
const session = await backend.load(model);
const batch = randomBatch(model, { seed: 2, size: 2, seqLen: 16 });
t0 = performance.now();
const logits = await session.logits(batch);
console.log(
  `logits graph: session + first run ${((performance.now() - t0) / 1000).toFixed(1)} s, logits ${Array.from(logits, (v) => v.toFixed(4)).join(' ')}`,
);
t0 = performance.now();
const g = await session.maskGradients(batch, { convention: 'example' });
console.log(
  `mask-gradient graph: session + first run ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${g.loss.toFixed(4)}, ${g.head.length} head gradients`,
);
console.log(`peak RSS ${gb(process.resourceUsage().maxRSS * 1024)} GB`);
await session.dispose();
