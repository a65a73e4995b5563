#!/usr/bin/env node
/**
 * `pnpm bench`: whole-process figures of the built `fmn` command (apps/cli/dist) on a random
 * BERT-base model (12 layers, hidden 768, 12 heads, FFN 3072, vocab 30522; 128-token examples),
 * side by side with a PyTorch anchor (bench/anchor.py) run in the same loop when a python3 with
 * torch is found. Each figure is a whole process timed by /usr/bin/time (wall, user + sys CPU,
 * peak RSS); fmn and PyTorch alternate (A B A B ...) and ratios are taken pair by pair, so a
 * comparison holds when the shared machine's speed drifts. The load average is printed with
 * every figure.
 *
 *   pnpm build && pnpm bench [--only peak,mask,full,eval,merge,train] [--runs N] [--examples 128]
 *                            [--full-examples 16] [--models 7] [--eval-examples 32,256]
 *                            [--eval-backends onnxruntime,tfjs-wasm,pytorch] [--work DIR] [--json FILE]
 *                            [--merge-methods fisher-nodes,ties,average] [--train-steps 5]
 *
 * `train` (alone it needs no build) times one training step
 * (Backend.createTrainer: forward, backward, AdamW) on tfjs-wasm and onnxruntime, each in its own
 * process (packages/backend-onnxruntime/bench/train-step.ts, run from source by tsx), alternating,
 * with the ratio: the zoo's model shape (zoo-build DEFAULT_SHAPE) for classification 32x64 and
 * masked-LM 64x64, and BERT-base for classification 8x128.
 *
 * Environment: FMN_BENCH_PYTHON (a python3 with torch; default: the first of python3 and
 * /usr/bin/python3 that imports torch).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERT_BASE, writeBertFolder, writeMaskFisherFile, writeTokenData } from './fixtures.mjs';
import { maskFisherFlops, measurePeak } from './peak.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'apps/cli/dist/bin.js');
const anchor = join(root, 'bench/anchor.py');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const only = new Set(arg('only', 'peak,mask,full,eval,merge,train').split(','));
const runs = Number(arg('runs', '1'));
const examples = Number(arg('examples', '128'));
const fullExamples = Number(arg('full-examples', '16'));
const maxModels = Number(arg('models', '7'));
const load = () => loadavg()[0].toFixed(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = {
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  started: new Date().toISOString(),
  figures: [],
};

function findTorch() {
  const candidates = [process.env.FMN_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  const tried = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, version: r.stdout.trim() };
    tried.push(`${py}: ${r.error ? r.error.code : (r.stderr.trim().split('\n').pop() ?? 'failed')}`);
  }
  return { why: tried.join('; ') };
}

/** Runs a command as a whole process under /usr/bin/time: wall, CPU, peak RSS, load average around it. */
function measure(label, cmd, args, env = {}) {
  const timeFile = join(work, 'time.txt');
  const before = load();
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const [wall, user, sys, kb] = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .pop()
    .split(/\s+/)
    .map(Number);
  const m = {
    label,
    wall,
    cpu: user + sys,
    cores: (user + sys) / wall,
    rssMiB: kb / 1024,
    load: `${before} -> ${load()}`,
    stdout: r.stdout,
  };
  console.log(
    `  ${label.padEnd(44)} ${wall.toFixed(1).padStart(7)} s wall, ${m.cores.toFixed(2)} cores, peak RSS ${(m.rssMiB / 1024).toFixed(2)} GiB, load ${m.load}`,
  );
  results.figures.push({ ...m, stdout: undefined });
  return m;
}

function ratioLine(what, pairs) {
  const ratios = pairs.map(([a, b]) => a / b);
  const line = `  => ${what}: median ${median(ratios).toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(', ')}) over ${ratios.length} pair(s)`;
  console.log(line);
  results.figures.push({ label: what, ratios });
}

// every section but `train` runs the built CLI on a BERT-base folder
const needsCli = [...only].some((o) => o !== 'train');
if (needsCli && !existsSync(cli)) {
  console.error(`bench: ${cli} is missing; run \`pnpm build\` first`);
  process.exit(2);
}
if (!existsSync('/usr/bin/time')) {
  console.error(
    'bench: /usr/bin/time (GNU time) is needed to measure whole processes (apt-get install time)',
  );
  process.exit(2);
}
const torch = needsCli ? findTorch() : { why: 'not needed by --only train' };
const work = arg('work', undefined) ?? mkdtempSync(join(tmpdir(), 'fmn-bench-'));
mkdirSync(work, { recursive: true });
console.log(
  `fmn bench: ${results.machine}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}; work folder ${work}`,
);
console.log(
  torch.python
    ? `PyTorch anchor: ${torch.python} (torch ${torch.version}), run in the same loop, alternating with fmn`
    : `PyTorch anchor: none (${torch.why}); fmn's figures alone, no ratios`,
);

let fmaPeak; // GFLOP/s of all cores, when measured
if (only.has('peak')) fmaPeak = await measurePeak(root, (f) => results.figures.push(f));

const model = join(work, 'bert0');
const data = join(work, 'data.jsonl');
let modelBytes = 0;
if (!needsCli) {
  // training builds its random models in process
} else if (!existsSync(join(model, 'model.safetensors'))) {
  modelBytes = await writeBertFolder(model, { seed: 1 });
  await writeTokenData(data, { n: Math.max(examples, 256), seqLen: 128 });
} else modelBytes = statSync(join(model, 'model.safetensors')).size;
const fmn = (argv) => ['node', [cli, ...argv, '--quiet']];
const py = (argv) => [torch.python, [anchor, '--model', model, '--data', data, ...argv]];

if (only.has('mask')) {
  console.log(
    `\n[1] mask Fisher, onnxruntime, ${examples} examples x 128 tokens, batch 32 (whole processes)`,
  );
  const pairs = { batch: [], example: [] };
  const flops = maskFisherFlops(BERT_BASE, examples, 128); // the bench model's dims (fixtures.mjs)
  for (let r = 0; r < runs; r++) {
    const t = torch.python
      ? measure(`pytorch mask Fisher (batch)`, ...py(['--task', 'mask', '--examples', String(examples)]))
      : undefined;
    for (const c of ['batch', 'example']) {
      const m = measure(
        `fmn fisher --convention ${c}`,
        ...fmn([
          'fisher',
          '--model',
          model,
          '--data',
          data,
          '--backend',
          'onnxruntime',
          '--samples',
          String(examples),
          '--batch-size',
          '32',
          '--convention',
          c,
          '--out',
          join(work, `mask-${c}.safetensors`),
          '--force',
        ]),
      );
      console.log(
        `     ~${(flops / 1e12).toFixed(2)} TFLOP of matmuls: ${(flops / m.wall / 1e9).toFixed(0)} GFLOP/s over the whole process${fmaPeak ? `; at the FMA peak (${fmaPeak.toFixed(0)} GFLOP/s) no fp32 pass takes under ${(flops / fmaPeak / 1e9).toFixed(1)} s` : ''}`,
      );
      if (t) pairs[c].push([m.wall, t.wall]);
    }
  }
  if (torch.python)
    for (const c of ['batch', 'example']) ratioLine(`fmn ${c} / PyTorch mask Fisher (wall)`, pairs[c]);
}

if (only.has('full')) {
  console.log(
    `\n[2] full diagonal Fisher, onnxruntime, ${fullExamples} examples x 128 tokens (whole processes)`,
  );
  const pairs = [];
  for (let r = 0; r < runs; r++) {
    const m = measure(
      `fmn fisher --full`,
      ...fmn([
        'fisher',
        '--full',
        '--model',
        model,
        '--data',
        data,
        '--backend',
        'onnxruntime',
        '--samples',
        String(fullExamples),
        '--out',
        join(work, 'full.safetensors'),
        '--force',
      ]),
    );
    console.log(`     ${(m.wall / fullExamples).toFixed(2)} s/example (whole process)`);
    if (torch.python) {
      const t = measure(
        `pytorch full Fisher (per-example loop)`,
        ...py(['--task', 'full', '--examples', String(fullExamples)]),
      );
      console.log(`     ${(t.wall / fullExamples).toFixed(2)} s/example (whole process)`);
      pairs.push([m.wall, t.wall]);
    }
  }
  if (pairs.length) ratioLine('fmn / PyTorch full Fisher (wall)', pairs);
}

if (only.has('eval')) {
  // throughput without load time: (examples of the long run - of the short run) / (wall difference)
  const [short, long] = arg('eval-examples', '32,256').split(',').map(Number);
  console.log(
    `\n[4] eval throughput, batch 32, 128 tokens: (${long} - ${short}) examples / wall-time difference`,
  );
  const backends = arg('eval-backends', 'onnxruntime,tfjs-wasm,pytorch').split(',');
  for (const backend of backends.filter((b) => b !== 'pytorch' || torch.python)) {
    const run = (n) => {
      const file = join(work, `eval-${n}.jsonl`);
      return backend === 'pytorch'
        ? measure(`pytorch logits, ${n} examples`, ...py(['--task', 'predict', '--examples', String(n)]))
        : measure(
            `fmn eval --backend ${backend}, ${n} examples`,
            ...fmn(['eval', '--model', model, '--data', file, '--backend', backend, '--batch-size', '32']),
          );
    };
    for (const n of [short, long])
      if (!existsSync(join(work, `eval-${n}.jsonl`)))
        await writeTokenData(join(work, `eval-${n}.jsonl`), { n, seqLen: 128 });
    const a = run(short);
    const b = run(long);
    const eps = (long - short) / (b.wall - a.wall);
    console.log(`  => ${backend}: ${eps.toFixed(1)} examples/s (load average ${load()})`);
    results.figures.push({ label: `eval throughput ${backend}`, examplesPerSecond: eps });
  }
}

if (only.has('merge')) {
  console.log(
    `\n[3] merging BERT-base checkpoints (one model: ${(modelBytes / 2 ** 20).toFixed(0)} MiB fp32), whole process`,
  );
  const dirs = [];
  for (let j = 0; j < maxModels; j++) {
    const dir = join(work, `task${j}`);
    if (!existsSync(join(dir, 'model.safetensors')))
      await writeBertFolder(dir, { seed: 100 + j, numLabels: 2 + (j % 3) });
    const fisher = join(work, `fisher${j}.safetensors`);
    if (!existsSync(fisher)) await writeMaskFisherFile(fisher, { seed: j + 1, dims: BERT_BASE });
    dirs.push({ dir, fisher });
  }
  const base = join(work, 'base');
  if (!existsSync(join(base, 'model.safetensors'))) await writeBertFolder(base, { seed: 99 });
  const counts = [...new Set([2, 4, maxModels].filter((m) => m <= maxModels))];
  for (const method of arg('merge-methods', 'fisher-nodes,ties,average').split(',')) {
    for (const m of counts) {
      const argv = ['merge', '--method', method, '--out', join(work, `merged-${method}-${m}`), '--force'];
      for (const { dir, fisher } of dirs.slice(0, m))
        argv.push('--model', dir, ...(method === 'fisher-nodes' ? ['--fisher', fisher] : []));
      if (method === 'ties') argv.push('--base', base);
      const r = measure(`fmn merge --method ${method}, ${m} models`, ...fmn(argv));
      const target = 1.5 * modelBytes + 200 * 2 ** 20;
      console.log(
        `     peak RSS = ${((r.rssMiB * 2 ** 20) / modelBytes).toFixed(2)} x one model (target 1.5 x + 200 MiB = ${(target / 2 ** 30).toFixed(2)} GiB)`,
      );
    }
  }
}

if (only.has('train')) {
  const steps = arg('train-steps', '5');
  const tsx = join(root, 'node_modules/.bin/tsx');
  const script = join(root, 'packages/backend-onnxruntime/bench/train-step.ts');
  const configs = [
    { shape: 'zoo', head: 'classification', batch: 32, seq: 64, steps },
    { shape: 'zoo', head: 'masked-lm', batch: 64, seq: 64, steps },
    {
      shape: 'bert-base',
      head: 'classification',
      batch: 8,
      seq: 128,
      steps: String(Math.min(2, Number(steps))),
    },
  ];
  console.log(
    `\n[5] one training step (forward + backward + AdamW), seconds per step after one untimed step; tfjs-wasm is single-threaded, onnxruntime uses ${cpus().length} threads`,
  );
  for (const c of configs) {
    const pairs = [];
    for (let r = 0; r < runs; r++) {
      const perStep = {};
      for (const backend of ['tfjs-wasm', 'onnxruntime']) {
        const argv = [
          '--conditions=@fmn/source',
          script,
          '--backend',
          backend,
          '--shape',
          c.shape,
          '--head',
          c.head,
          '--batch',
          String(c.batch),
          '--seq',
          String(c.seq),
          '--steps',
          c.steps,
          '--json',
        ];
        let m;
        try {
          m = measure(`${backend} ${c.shape} ${c.head} ${c.batch}x${c.seq}`, tsx, argv);
        } catch (e) {
          // e.g. tfjs-wasm on BERT-base: weights, Adam moments, gradients and activations exceed the wasm heap
          const why =
            String(e.message)
              .split('\n')
              .filter((l) => /abort|error|memory/i.test(l))[0] ?? 'failed';
          console.log(`  ${backend} ${c.shape} ${c.head} ${c.batch}x${c.seq}: FAILED (${why.trim()})`);
          results.figures.push({ label: `train step ${backend} ${c.shape} ${c.head}`, failed: why.trim() });
          continue;
        }
        const res = JSON.parse(m.stdout.trim().split('\n').pop());
        perStep[backend] = res.secondsPerStep;
        console.log(
          `     ${res.secondsPerStep.toFixed(3)} s/step (first step ${res.firstStepSeconds.toFixed(2)} s), ~${res.gflops.toFixed(1)} GFLOP/s nominal, load ${res.load}`,
        );
        results.figures.push({
          label: `train step ${backend} ${c.shape} ${c.head} ${c.batch}x${c.seq}`,
          ...res,
        });
      }
      if (perStep['tfjs-wasm'] && perStep.onnxruntime)
        pairs.push([perStep['tfjs-wasm'], perStep.onnxruntime]);
    }
    if (pairs.length)
      ratioLine(
        `tfjs-wasm / onnxruntime s per training step, ${c.shape} ${c.head} ${c.batch}x${c.seq}`,
        pairs,
      );
  }
}

const out = arg('json', undefined);
if (out) writeFileSync(out, JSON.stringify(results, null, 2));
console.log(
  `\ndone; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`,
);
if (!arg('work', undefined)) rmSync(work, { recursive: true, force: true });
