/**
 * Pre-train and fine-tune the zoo's models (seeded) and write them under @fmn/zoo's models/
 * (packages/zoo/models):
 *   models/<arch>/base          the masked-LM pre-trained encoder (XModel layout, fp16)
 *   models/<arch>/<task>        one fine-tuned XForSequenceClassification per task (fp16)
 *   models/<arch>/results.json  settings, losses, times and dev scores
 *
 *   pnpm --filter @fmn/zoo-build zoo:models [bert roberta distilbert electra] [--jobs N]
 *     [--tasks a,b] [--from-base] [--pretrain-steps N] [--pretrain-lr X] [--pretrain-segments 1|2] [--epochs N] [--lr X]
 *     [--layers N] [--hidden N] [--heads N] [--intermediate N] [--patience N] [--seeds N] [--dropout X]
 *     [--trainer onnxruntime|tfjs] [--threads N] [--runtime wasm|cpu|node|onnxruntime] [--out DIR] [--dry-run] [--help]
 * Training runs on onnxruntime (--threads N intra-op threads, default 1) or tfjs; held-out and dev
 * scoring on onnxruntime (default) or tfjs (--runtime wasm|cpu|node).
 * The architectures are the registered adapters the zoo has a model recipe for (src/archs.ts).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
import {
  adapterFor,
  Checkpoint,
  FmnError,
  writeFileAtomic,
  type Backend,
  type EncoderModel,
} from '@fmn/core';
import { createTfjsBackend, type TfjsBackend } from '@fmn/backend-tfjs';
import { createOnnxRuntimeBackend } from '@fmn/backend-onnxruntime';
import { loadTokenizer } from '@fmn/data';
import { zooPath, zooTasks, zooTokenizerFor, zooTokenizerKind, type ZooArch } from '@fmn/zoo';
import { archsWithoutRecipe, buildableArchs } from '../src/archs.js';
import { mlmCorpusPath } from '../src/cache.js';
import { MODEL_TOKENIZER } from '../src/model-tokenizer.js';
import { buildZoo } from '../src/zoo.js';
import { bertPooler, DEFAULT_SHAPE, initMlmModel, withClassifier, writeZooModel } from '../src/models.js';
import {
  DEFAULT_FINETUNE,
  DEFAULT_PRETRAIN,
  FINETUNE_LRS,
  FINETUNE_SEEDS,
  finetuneSeed,
  TASK_EPOCHS,
  TASK_OVERRIDES,
  devBatches,
  devLogits,
  finetune,
  mlmBatches,
  pretrain,
  rowBatches,
  scoreTask,
  splitCorpus,
  trainBatches,
  trainTexts,
} from '../src/train.js';
import { backendTrainers, tfjsTrainers, type MakeTrainer } from '../src/training-loop.js';
import { fineTuningRows, heldOutGroups } from '../src/held-out.js';
import { taskVectorRelativeSize } from '../src/task-vector.js';

const SEED = 'fmn-zoo-models-1';
/** seed of the held-out train rows (`sampleIndices`, the same for every architecture) */
const HELD_OUT_SEED = 1;
/** The architectures this build can make (registered adapters with a zoo model recipe). */
const ARCHS = buildableArchs();

const USAGE = `usage: pnpm --filter @fmn/zoo-build zoo:models [${ARCHS.join(' ')}] [--jobs N] [--tasks a,b]
    [--from-base] [--pretrain-steps N] [--pretrain-lr X] [--pretrain-segments 1|2] [--epochs N] [--lr X]
    [--layers N] [--hidden N] [--heads N] [--intermediate N] [--patience N] [--seeds N] [--dropout X] [--trainer onnxruntime|tfjs]
    [--threads N] [--runtime wasm|cpu|node|onnxruntime] [--out DIR] [--dry-run]
  pre-trains and fine-tunes the zoo's models and writes them to ${zooPath('models')}/<arch> (or --out DIR/<arch>);
  training runs on onnxruntime (default; --threads N intra-op threads, default 1) or tfjs, dev scoring on tfjs
  or onnxruntime (--runtime, default onnxruntime); fine-tuning holds out part of train (early stopping; recorded in results.json);
  --dry-run prints what would be built and written, without training or writing anything.`;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function corpusLines(): Promise<string[]> {
  try {
    return (await readFile(mlmCorpusPath(), 'utf8')).split('\n').filter((l) => l.length > 0);
  } catch {
    console.log('no cached corpus: rebuilding it from WordNet');
    return buildZoo().corpus;
  }
}

/** Which runtime scores held-out and dev examples: --runtime, default onnxruntime. */
function evalRuntime(): 'onnxruntime' | 'wasm' | 'node' | 'cpu' {
  const kind = arg('--runtime') ?? 'onnxruntime';
  if (!['onnxruntime', 'wasm', 'node', 'cpu'].includes(kind))
    throw new FmnError(`--runtime must be onnxruntime, wasm, node or cpu, got ${kind}`);
  return kind as 'onnxruntime' | 'wasm' | 'node' | 'cpu';
}

/** The tfjs runtime --runtime names (wasm when it names onnxruntime or nothing). */
function tfjsKind(): 'wasm' | 'node' | 'cpu' {
  const kind = evalRuntime();
  return kind === 'onnxruntime' ? 'wasm' : (kind as 'wasm' | 'node' | 'cpu');
}

async function buildArch(arch: ZooArch, lines: string[], backend: Backend): Promise<void> {
  // the one place that says which runtime trains: onnxruntime (default; ~7x faster than tfjs wasm
  // here, same losses to 6 digits on a 40-step run) or tfjs (--trainer tfjs)
  const trainerKind = arg('--trainer') ?? 'onnxruntime';
  if (trainerKind !== 'tfjs' && trainerKind !== 'onnxruntime')
    throw new FmnError(`--trainer must be tfjs or onnxruntime, got ${trainerKind}`);
  const ortThreads = Number(arg('--threads') ?? 1);
  const trainBackend =
    trainerKind === 'tfjs'
      ? backend.name.startsWith('tfjs')
        ? (backend as TfjsBackend)
        : await createTfjsBackend(tfjsKind())
      : await createOnnxRuntimeBackend({ intraOpNumThreads: ortThreads });
  const makeTrainer: MakeTrainer =
    trainerKind === 'tfjs' ? tfjsTrainers(trainBackend as TfjsBackend) : backendTrainers(trainBackend);
  const t0 = Date.now();
  // --layers / --hidden / --heads / --intermediate change the encoder's shape (pre-training only)
  const shape = { ...DEFAULT_SHAPE };
  for (const k of ['layers', 'hidden', 'heads', 'intermediate'] as const) {
    const v = arg(`--${k}`);
    if (v === undefined) continue;
    if (process.argv.includes('--from-base'))
      throw new FmnError(`--${k} changes pre-training; it cannot go with --from-base`);
    if (!(Number.isInteger(Number(v)) && Number(v) > 0))
      throw new FmnError(`--${k} must be a positive integer, got ${v}`);
    shape[k] = Number(v);
  }
  const pre = {
    ...DEFAULT_PRETRAIN,
    steps: Number(arg('--pretrain-steps') ?? DEFAULT_PRETRAIN.steps),
    lr: Number(arg('--pretrain-lr') ?? DEFAULT_PRETRAIN.lr),
    segments: Number(arg('--pretrain-segments') ?? DEFAULT_PRETRAIN.segments) as 1 | 2,
  };
  if (pre.segments !== 1 && pre.segments !== 2)
    throw new FmnError(`--pretrain-segments must be 1 or 2, got ${arg('--pretrain-segments')}`);
  const fine = {
    ...DEFAULT_FINETUNE,
    epochs: Number(arg('--epochs') ?? DEFAULT_FINETUNE.epochs),
    lr: Number(arg('--lr') ?? DEFAULT_FINETUNE.lr),
    patience: Number(arg('--patience') ?? DEFAULT_FINETUNE.patience),
    dropout: Number(arg('--dropout') ?? DEFAULT_FINETUNE.dropout),
  };
  if (!(Number.isInteger(fine.patience) && fine.patience > 0))
    throw new FmnError(`--patience must be a positive integer, got ${arg('--patience')}`);
  const seeds = Number(arg('--seeds') ?? FINETUNE_SEEDS);
  if (!(Number.isInteger(seeds) && seeds > 0))
    throw new FmnError(`--seeds must be a positive integer, got ${arg('--seeds')}`);
  const tokDir = zooTokenizerFor(arch);
  const modelTok = MODEL_TOKENIZER[zooTokenizerKind(arch)];
  const tokFiles = modelTok.files;
  const config = { model_type: arch, pad_token_id: modelTok.padTokenId };
  const tok = await loadTokenizer(tokDir, config);
  const vocab: Record<string, number> = JSON.parse(await readFile(join(tokDir, 'tokenizer.json'), 'utf8'))
    .model.vocab;
  const vocabSize = Object.keys(vocab).length;
  const maskId = vocab[modelTok.maskToken];
  if (maskId === undefined)
    throw new FmnError(
      `no mask token ${modelTok.maskToken} in the tokenizer`,
      join(tokDir, 'tokenizer.json'),
    );
  console.log(
    `[${arch}] vocab ${vocabSize}, mask id ${maskId}, trainer ${trainerKind}, evaluation ${backend.runtime}`,
  );

  const root = join(arg('--out') ?? zooPath('models'), arch);
  const resultsPath = join(root, 'results.json');
  let previous: Record<string, unknown> = {};
  let pretrained: EncoderModel;
  let pretrainLog: unknown;
  if (process.argv.includes('--from-base')) {
    // fine-tune only: start from the shipped base (fp16 weights)
    const ckpt = await Checkpoint.open(join(root, 'base'));
    pretrained = await adapterFor(ckpt.config).load(ckpt);
    await ckpt.close();
    // the shape is the base's own
    shape.hidden = pretrained.dims.hidden;
    shape.layers = pretrained.layers.length;
    shape.heads = pretrained.dims.numHeads;
    shape.intermediate = pretrained.dims.intermediate;
    if (arch === 'bert' && !pretrained.extras?.length) {
      // a base written before the pooler was stored: add the seeded pooler (encoder weights unchanged)
      const pooler = bertPooler(shape.hidden, SEED);
      pretrained = { ...pretrained, extras: [pooler.weight, pooler.bias!] };
      await writeZooModel(join(root, 'base'), arch, pretrained, tokDir, tokFiles, undefined, {
        fmn_zoo: 'masked-lm pre-trained base',
      });
    }
    previous = JSON.parse(await readFile(resultsPath, 'utf8')) as Record<string, unknown>;
    pretrainLog = (previous.pretrain as { log?: unknown } | undefined)?.log;
    // the base's pre-training settings are the ones results.json recorded when it was made
    Object.assign(pre, previous.pretrain, { log: undefined });
    console.log(`[${arch}] fine-tuning from the shipped base`);
  } else {
    const mlm = initMlmModel(arch, shape, vocabSize, SEED);
    const corpus = splitCorpus(lines, pre.heldOutLines, SEED);
    const batches = mlmBatches(corpus.train, tok, maskId, vocabSize, pre, shape.maxLength, `${SEED}/${arch}`);
    const heldOut = mlmBatches(
      corpus.heldOut,
      tok,
      maskId,
      vocabSize,
      { ...pre, steps: Math.ceil(corpus.heldOut.length / pre.batchSize) },
      shape.maxLength,
      `${SEED}/${arch}/held-out`,
    );
    const pt = await pretrain(mlm, batches, pre, makeTrainer, 1, (m) => console.log(`[${arch}]${m}`), {
      batches: heldOut,
      every: pre.evalEvery,
    });
    console.log(
      `[${arch}] pre-trained ${pt.log.steps} steps in ${pt.log.seconds.toFixed(0)} s, loss ${pt.log.firstLoss.toFixed(3)} -> ${pt.log.lastLoss.toFixed(3)}, held-out ${pt.log.heldOutLoss?.toFixed(3)}`,
    );
    // BERT's base carries the pooler every fine-tuning starts from (BertModel has one)
    const pooler = bertPooler(shape.hidden, SEED);
    const base = arch === 'bert' ? { ...pt.model, extras: [pooler.weight, pooler.bias!] } : pt.model;
    await writeZooModel(join(root, 'base'), arch, base, tokDir, tokFiles, undefined, {
      fmn_zoo: 'masked-lm pre-trained base',
    });
    // fine-tune from the base as shipped (fp16), so task vectors are relative to the shipped base
    const ckpt = await Checkpoint.open(join(root, 'base'));
    pretrained = await adapterFor(ckpt.config).load(ckpt);
    await ckpt.close();
    pretrainLog = {
      ...pt.log,
      trainLines: corpus.train.length,
      heldOutLines: corpus.heldOut.length,
      passes: (pre.steps * pre.batchSize) / corpus.train.length,
    };
  }

  const manifest = JSON.parse(await readFile(zooPath('data', 'tasks.json'), 'utf8')) as {
    tasks: { name: string; bow_baseline: Record<string, number> }[];
  };
  const bow = Object.fromEntries(manifest.tasks.map((t) => [t.name, t.bow_baseline]));
  const results: Record<string, unknown> = {
    ...((previous.tasks as Record<string, unknown> | undefined) ?? {}),
  };
  const only = arg('--tasks')?.split(',');
  for (const task of zooTasks.filter((t) => !only || only.includes(t.name))) {
    // command-line --epochs / --lr win over the per-task settings
    const settings = {
      ...fine,
      epochs: arg('--epochs') ? fine.epochs : (TASK_EPOCHS[task.name] ?? fine.epochs),
      ...(arg('--epochs') || arg('--lr') ? {} : TASK_OVERRIDES[`${arch}/${task.name}`]),
    };
    // held out by group: no text (an nli dictionary entry) on both sides, as the dev split
    const texts = await trainTexts(task);
    const nTrain = texts.length;
    const held = heldOutGroups(texts, settings.heldOutFraction, HELD_OUT_SEED);
    const ho = await rowBatches(task, tok, held.rows, shape.maxLength);
    // the checkpoint kept is the one with the best held-out score (accuracy, or Pearson)
    const hoLabels = Float32Array.from(ho.flatMap((b) => Array.from(b.labels!)));
    const heldOutScore = async (m: EncoderModel): Promise<number> =>
      scoreTask(task, await devLogits(m, ho, backend), hoLabels).score;
    // one fine-tuning per learning rate (--lr: that one only) and seed (head and batch order);
    // the best held-out score is shipped (ties: the earlier run: the smaller seed, then the smaller rate)
    const lrs = arg('--lr') ? [settings.lr] : FINETUNE_LRS;
    const candidates: {
      lr: number;
      seed: number;
      heldOutScore: number;
      keptStep: number;
      steps: number;
      seconds: number;
    }[] = [];
    let ft: Awaited<ReturnType<typeof finetune>> | undefined;
    let best: (typeof candidates)[number] | undefined;
    for (let k = 0; k < seeds; k++) {
      const seed = finetuneSeed(SEED, k);
      const start = withClassifier(pretrained, arch, task.num_labels, `${seed}/${task.name}`, SEED);
      const tb = await trainBatches(task, tok, settings, shape.maxLength, seed, fineTuningRows(nTrain, held));
      for (const lr of lrs) {
        const run = await finetune(
          start,
          tb,
          { ...settings, lr },
          makeTrainer,
          2,
          ho,
          (m) => console.log(`[${arch}/${task.name} lr ${lr} seed ${k}]${m}`),
          heldOutScore,
        );
        const c = {
          lr,
          seed: k,
          heldOutScore: run.log.heldOutScore!,
          keptStep: run.log.keptStep!,
          steps: run.log.steps,
          seconds: run.log.seconds,
        };
        candidates.push(c);
        console.log(
          `[${arch}/${task.name}] lr ${lr} seed ${k}: held-out score ${c.heldOutScore.toFixed(4)} at step ${c.keptStep}`,
        );
        if (!best || c.heldOutScore > best.heldOutScore) [ft, best] = [run, c];
      }
    }
    if (!ft || !best) throw new FmnError('no learning rate to fine-tune with');
    const chosen = { ...settings, lr: best.lr, seed: best.seed };
    const dir = join(root, task.name);
    await writeZooModel(
      dir,
      arch,
      ft.model,
      tokDir,
      tokFiles,
      { numLabels: task.num_labels, labels: task.label_names },
      {
        fmn_zoo: `fine-tuned on ${task.name}`,
      },
    );
    // evaluate the checkpoint as shipped (fp16), read back through the adapter
    const ckpt = await Checkpoint.open(dir);
    const loaded = await adapterFor(ckpt.config).load(ckpt);
    const dev = await devBatches(task, tok, shape.maxLength);
    await ckpt.close();
    const score = scoreTask(task, await devLogits(loaded, dev.batches, backend), dev.labels);
    const relative = taskVectorRelativeSize(pretrained, loaded);
    console.log(
      `[${arch}/${task.name}] ${ft.log.steps}/${ft.log.plannedSteps} steps in ${ft.log.seconds.toFixed(0)} s, loss ${ft.log.firstLoss.toFixed(3)} -> ${ft.log.lastLoss.toFixed(3)}, kept step ${ft.log.keptStep}; dev ${JSON.stringify(score.metrics)}; task vector ${relative.toFixed(4)} of the base`,
    );
    results[task.name] = {
      dev: score.metrics,
      bow_baseline: bow[task.name],
      task_vector_relative_size: relative,
      train: ft.log,
      settings: chosen,
      learning_rates: candidates,
      held_out: held,
    };
  }
  const summary = {
    arch,
    seed: SEED,
    runtime: backend.runtime,
    trainer: trainBackend.runtime,
    shape: { ...shape, vocabSize, electraEmbedding: arch === 'electra' ? shape.electraEmbedding : undefined },
    pretrain: { ...pre, log: pretrainLog },
    finetune: { ...((previous.finetune as Record<string, unknown> | undefined) ?? {}), ...fine },
    tasks: results,
    seconds: ((previous.seconds as number | undefined) ?? 0) + (Date.now() - t0) / 1000,
  };
  await writeFileAtomic(join(root, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`[${arch}] done in ${summary.seconds.toFixed(0)} s`);
}

/** Runs this script for each group of architectures in a child process; fails if any fails. */
async function parallel(groups: ZooArch[][]): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const rest = process.argv.slice(2).filter((a) => !(ARCHS as readonly string[]).includes(a));
  const i = rest.indexOf('--jobs');
  if (i >= 0) rest.splice(i, 2);
  const codes = await Promise.all(
    groups.map(
      (g) =>
        new Promise<number>((done) => {
          const child = spawn(process.execPath, [...process.execArgv, script, ...g, ...rest], {
            stdio: 'inherit',
          });
          child.on('exit', (code) => done(code ?? 1));
        }),
    ),
  );
  if (codes.some((c) => c !== 0)) throw new Error(`a model build failed (exit codes ${codes.join(', ')})`);
}

/** What a run would build and write, per architecture; nothing is trained or written. */
function dryRun(archs: readonly ZooArch[]): void {
  const only = arg('--tasks')?.split(',');
  const tasks = zooTasks.filter((t) => !only || only.includes(t.name)).map((t) => t.name);
  const root = arg('--out') ?? zooPath('models');
  const skipped = archsWithoutRecipe();
  if (skipped.length > 0)
    console.log(`registered without a zoo model recipe (left out): ${skipped.join(', ')}`);
  for (const arch of archs) {
    const tokDir = zooTokenizerFor(arch);
    const base = process.argv.includes('--from-base') ? 'read' : 'pre-train and write';
    console.log(
      `[${arch}] tokenizer ${tokDir} (${MODEL_TOKENIZER[zooTokenizerKind(arch)].files.join(', ')}); ` +
        `${base} ${join(root, arch, 'base')}; fine-tune ${tasks.join(', ')} into ${join(root, arch)}/<task>; ` +
        `results ${join(root, arch, 'results.json')}`,
    );
  }
  console.log(
    `corpus: ${mlmCorpusPath()}; trainer ${arg('--trainer') ?? 'onnxruntime'}; evaluation runtime ${evalRuntime()}; jobs ${arg('--jobs') ?? 1}`,
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  if (ARCHS.length === 0) throw new FmnError('no architecture adapter with a zoo model recipe is registered');
  const picked = process.argv.slice(2).filter((a): a is ZooArch => (ARCHS as readonly string[]).includes(a));
  const archs = picked.length > 0 ? picked : [...ARCHS];
  if (process.argv.includes('--dry-run')) {
    dryRun(archs);
    return;
  }
  // --jobs N: N processes (tfjs wasm is single-threaded), architectures dealt round-robin
  const jobs = Math.min(archs.length, Number(arg('--jobs') ?? 1));
  if (jobs > 1) {
    await parallel(Array.from({ length: jobs }, (_, j) => archs.filter((_, k) => k % jobs === j)));
    return;
  }
  // evaluation (held-out and dev scores): tfjs (--runtime wasm|cpu|node) or onnxruntime
  const backend: Backend =
    evalRuntime() === 'onnxruntime'
      ? await createOnnxRuntimeBackend({ intraOpNumThreads: Number(arg('--threads') ?? 1) })
      : await createTfjsBackend(tfjsKind());
  const lines = await corpusLines();
  for (const arch of archs) await buildArch(arch, lines, backend);
}

await main();
