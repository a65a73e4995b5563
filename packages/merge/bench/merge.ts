/**
 * Benchmark (not a test): merges 4 BERT-base-shaped checkpoints (12 layers, hidden 768, 12 heads,
 * FFN 3072, vocab 30522, random fp32 weights) with fisher-nodes through the real BERT adapter, and
 * reports wall time and the merging process's peak RSS against one model's size.
 *
 *   pnpm bench            (FMN_BENCH_MODELS=4, FMN_BENCH_KEEP=1 keeps the temp folder)
 */
import { fork } from 'node:child_process';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@fmn/arch-bert';
import { writeMaskFisher, writeSafetensors, type TensorToWrite } from '@fmn/core';
import { merge } from '../src/index.js';

const L = 12;
const HID = 768;
const HEADS = 12;
const FFN = 3072;
const VOCAB = 30522;
const POS = 512;

function bertTensors(numLabels: number): [string, number[]][] {
  const t: [string, number[]][] = [
    ['bert.embeddings.word_embeddings.weight', [VOCAB, HID]],
    ['bert.embeddings.position_embeddings.weight', [POS, HID]],
    ['bert.embeddings.token_type_embeddings.weight', [2, HID]],
    ['bert.embeddings.LayerNorm.weight', [HID]],
    ['bert.embeddings.LayerNorm.bias', [HID]],
  ];
  for (let l = 0; l < L; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of [
      'attention.self.query',
      'attention.self.key',
      'attention.self.value',
      'attention.output.dense',
    ]) {
      t.push([`${p}${n}.weight`, [HID, HID]], [`${p}${n}.bias`, [HID]]);
    }
    t.push([`${p}attention.output.LayerNorm.weight`, [HID]], [`${p}attention.output.LayerNorm.bias`, [HID]]);
    t.push([`${p}intermediate.dense.weight`, [FFN, HID]], [`${p}intermediate.dense.bias`, [FFN]]);
    t.push([`${p}output.dense.weight`, [HID, FFN]], [`${p}output.dense.bias`, [HID]]);
    t.push([`${p}output.LayerNorm.weight`, [HID]], [`${p}output.LayerNorm.bias`, [HID]]);
  }
  t.push(['bert.pooler.dense.weight', [HID, HID]], ['bert.pooler.dense.bias', [HID]]);
  t.push(['classifier.weight', [numLabels, HID]], ['classifier.bias', [numLabels]]);
  return t;
}

/** xorshift32 uniform in [-0.1, 0.1): cheap random weights, generated one tensor at a time. */
function randomBytes(n: number, seed: number): Uint8Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 4294967296 - 0.5) * 0.2;
  }
  return new Uint8Array(a.buffer);
}

async function writeModel(dir: string, j: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  const labels = 2 + j;
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      hidden_size: HID,
      num_attention_heads: HEADS,
      num_hidden_layers: L,
      intermediate_size: FFN,
      vocab_size: VOCAB,
      max_position_embeddings: POS,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      num_labels: labels,
    }),
  );
  const tensors: TensorToWrite[] = bertTensors(labels).map(([name, shape], k) => ({
    name,
    dtype: 'F32',
    shape,
    data: () =>
      randomBytes(
        shape.reduce((a, b) => a * b, 1),
        (j + 1) * 7919 + k,
      ),
  }));
  const path = join(dir, 'model.safetensors');
  await writeSafetensors(path, tensors);
  const head = Float32Array.from({ length: L * HEADS }, (_, i) => 0.1 + ((i * 31 + j * 17) % 97) / 10);
  const neuron = Float32Array.from({ length: L * FFN }, (_, i) => ((i * 13 + j * 29) % 101) / 50);
  await writeMaskFisher(join(dir, '..', `fisher-${j}.safetensors`), {
    layout: { layers: L, heads: HEADS, headSize: HID / HEADS, intermediate: FFN },
    head,
    neuron,
    examples: 128,
  });
  return (await stat(path)).size;
}

async function child(root: string, m: number): Promise<void> {
  const startRss = process.memoryUsage().rss;
  const t0 = performance.now();
  const models = Array.from({ length: m }, (_, j) => ({
    dir: join(root, `task${j}`),
    fisher: join(root, `fisher-${j}.safetensors`),
  }));
  await merge({ method: 'fisher-nodes', models, out: join(root, 'merged') });
  const seconds = (performance.now() - t0) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.send!({ seconds, peakRss, startRss });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], Number(process.argv[4]));
  const m = Number(process.env.FMN_BENCH_MODELS ?? 4);
  const root = await mkdtemp(join(tmpdir(), 'fmn-bench-merge-'));
  console.log(
    `load average at the start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')} on ${cpus().length} cores`,
  );
  try {
    const t0 = performance.now();
    let modelBytes = 0;
    for (let j = 0; j < m; j++) modelBytes = await writeModel(join(root, `task${j}`), j);
    console.log(
      `wrote ${m} BERT-base-shaped checkpoints (${(modelBytes / 2 ** 20).toFixed(0)} MiB each, fp32) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const result = await new Promise<{ seconds: number; peakRss: number; startRss: number }>(
      (resolve, reject) => {
        const c = fork(fileURLToPath(import.meta.url), ['--child', root, String(m)], { stdio: 'inherit' });
        c.on('message', (msg) => resolve(msg as { seconds: number; peakRss: number; startRss: number }));
        c.on('error', reject);
        c.on('exit', (code) => (code ? reject(new Error(`merge process exited with ${code}`)) : undefined));
      },
    );
    const largest = VOCAB * HID * 4;
    const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
    const extra = result.peakRss - result.startRss;
    console.log(
      [
        `fisher-nodes (paper), ${m} models: ${result.seconds.toFixed(1)} s`,
        `peak RSS of the merging process: ${(result.peakRss / 2 ** 20).toFixed(0)} MiB`,
        `one model: ${(modelBytes / 2 ** 20).toFixed(0)} MiB -> peak RSS = ${(result.peakRss / modelBytes).toFixed(2)} x one model`,
        `largest tensor (word embeddings): ${mib(largest)} MiB -> peak RSS = ${(result.peakRss / largest).toFixed(1)} x largest tensor`,
        `RSS before merging (Node + modules): ${mib(result.startRss)} MiB -> growth during the merge ${mib(extra)} MiB = ${(extra / largest).toFixed(1)} x largest tensor (M + 1 = ${m + 1})`,
        `load average (1, 5, 15 min) at the end: ${loadavg()
          .map((x) => x.toFixed(2))
          .join(', ')} on ${cpus().length} cores`,
      ].join('\n'),
    );
  } finally {
    if (!process.env.FMN_BENCH_KEEP) await rm(root, { recursive: true, force: true });
  }
}

await main();
