/**
 * Per-operator profile of the mask-gradient graph (ONNX Runtime profiling), not a test:
 * a BERT-base-width random model with few layers, one batch. Prints time per op type and the
 * slowest nodes.
 *
 *   pnpm exec tsx --conditions=@fmn/source bench/profile.ts [--layers 2] [--batch 32] [--seq 128] [--convention batch]
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { randomBatch, randomEncoder } from '@fmn/testkit';
import { maskGradientGraph } from '@fmn/onnx';
import { externalDataOf } from '@fmn/onnx';
import { sessionOptions } from '../src/session.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const L = Number(arg('layers', '2'));
const B = Number(arg('batch', '32'));
const T = Number(arg('seq', '128'));
const convention = arg('convention', 'batch') as 'batch' | 'example';
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
const graph = maskGradientGraph(model, convention === 'batch' ? 'shared' : 'example');
const { bytes, files } = externalDataOf(graph);
const dir = mkdtempSync(join(tmpdir(), 'ortprof-'));
const s = await ort.InferenceSession.create(bytes, {
  ...sessionOptions({}),
  externalData: files,
  enableProfiling: true,
  profileFilePrefix: join(dir, 'p'),
});
const batch = randomBatch(model, { seed: 2, size: B, seqLen: T, ragged: false });
const i64 = (a: Int32Array) => BigInt64Array.from(a, (x) => BigInt(x));
const feeds: Record<string, ort.Tensor> = {
  input_ids: new ort.Tensor('int64', i64(batch.inputIds), [B, T]),
  attention_mask: new ort.Tensor('int64', i64(batch.attentionMask), [B, T]),
  token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
  labels: new ort.Tensor(
    'float32',
    Float32Array.from({ length: B * 2 }, (_, k) => (k % 2 === (k >> 1) % 2 ? 1 : 0)),
    [B, 2],
  ),
};
for (const v of graph.inputs) {
  if (v.name in feeds) continue;
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : B));
  feeds[v.name] = new ort.Tensor(
    'float32',
    new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1),
    shape,
  );
}
const runs = Number(arg('runs', '2'));
for (let r = 0; r < runs; r++) {
  const load = (await import('node:os')).loadavg()[0].toFixed(2);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await s.run(feeds);
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `run ${r}: ${secs.toFixed(2)} s, ${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)} cores used, load average ${load}`,
  );
}
s.endProfiling();
await s.release();
const file = (await import('node:fs')).readdirSync(dir).map((f) => join(dir, f))[0];
const events = JSON.parse(readFileSync(file, 'utf8')) as {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}[];
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
const byOp = new Map<string, number>();
let total = 0;
for (const e of nodes) {
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  total += e.dur;
}
console.log(`total kernel time ${(total / 1e6).toFixed(2)} s over ${runs} runs`);
for (const [op, d] of [...byOp].sort((a, b) => b[1] - a[1]))
  console.log(`${op.padEnd(28)} ${(d / 1e6 / runs).toFixed(3)} s/run  ${((100 * d) / total).toFixed(1)}%`);
const byNode = new Map<string, number>();
for (const e of nodes) byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur);
console.log('slowest nodes:');
for (const [n, d] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(arg('top', '25')))) {
  const k = /^n(\d+)_/.exec(n)?.[1];
  const node = k === undefined ? undefined : graph.nodes[Number(k)];
  const desc = node
    ? node.inputs.map((i) => (i ? `${i.init ? 'W' : ''}[${i.shape.join(',')}]` : '-')).join(' ')
    : '';
  console.log(
    `  ${n.replace('_kernel_time', '').padEnd(22)} ${(d / 1e3 / runs).toFixed(1).padStart(7)} ms/run  ${desc}`,
  );
}
