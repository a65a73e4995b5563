import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  FULL_FISHER_FORMAT,
  MASK_FISHER_FORMAT,
  Checkpoint,
  FmnError,
  SafetensorsFile,
  adapterFor,
  configNumLabels,
  formatShape,
  numel,
  readMaskFisher,
  DTYPE_SIZE,
  type HfConfig,
} from '@fmn/core';
import { out } from '../context.js';
import { fmt, neuronSummary, terminalHeatmap } from '../heatmap.js';
import { modelDir } from '../model-path.js';

interface TensorRow {
  name: string;
  dtype: string;
  shape: number[];
  params: number;
}

function dtypeTotals(rows: TensorRow[]): Record<string, { tensors: number; params: number; bytes: number }> {
  const t: Record<string, { tensors: number; params: number; bytes: number }> = {};
  for (const r of rows) {
    const e = (t[r.dtype] ??= { tensors: 0, params: 0, bytes: 0 });
    e.tensors++;
    e.params += r.params;
    e.bytes += r.params * (DTYPE_SIZE[r.dtype as keyof typeof DTYPE_SIZE] ?? 0);
  }
  return t;
}

function tensorTable(rows: TensorRow[]): string[] {
  const nw = Math.max(4, ...rows.map((r) => r.name.length));
  const sw = Math.max(5, ...rows.map((r) => formatShape(r.shape).length));
  const lines = [`${'name'.padEnd(nw)}  dtype  ${'shape'.padEnd(sw)}  params`];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(nw)}  ${r.dtype.padEnd(5)}  ${formatShape(r.shape).padEnd(sw)}  ${r.params.toLocaleString('en-US')}`,
    );
  }
  return lines;
}

/** Architecture facts from a config: through the registered adapter when one matches, else raw keys. */
function architecture(config: HfConfig, dir: string) {
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof config[k] === 'number') return config[k] as number;
    return undefined;
  };
  let layout: { layers: number; heads: number; headSize: number; intermediate: number } | undefined;
  let adapter: string | undefined;
  try {
    const a = adapterFor(config, dir);
    adapter = a.modelType;
    layout = a.maskLayout(config);
  } catch {
    // no adapter registered for this model type: report what the config says
  }
  return {
    model_type: config.model_type ?? null,
    architectures: Array.isArray(config.architectures) ? config.architectures : [],
    adapter: adapter ?? null,
    layers: layout?.layers ?? pick('num_hidden_layers', 'n_layers'),
    heads: layout?.heads ?? pick('num_attention_heads', 'n_heads'),
    hidden: pick('hidden_size', 'dim'),
    intermediate: layout?.intermediate ?? pick('intermediate_size', 'hidden_dim'),
    vocab_size: pick('vocab_size'),
    num_labels: configNumLabels(config),
  };
}

/** key-value lines, keys aligned (at least as wide as the other labels) */
function printMetadata(metadata: Readonly<Record<string, string>>): void {
  const entries = Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const w = Math.max(14, ...entries.map(([k]) => k.length));
  for (const [k, v] of entries) out(`  ${k.padEnd(w)} ${v}`);
}

async function inspectModel(dir: string, json: boolean): Promise<void> {
  const ckpt = await Checkpoint.open(dir);
  try {
    const rows: TensorRow[] = ckpt
      .names()
      .sort()
      .map((name) => {
        const i = ckpt.info(name);
        return { name, dtype: i.dtype, shape: [...i.shape], params: numel(i.shape) };
      });
    const arch = architecture(ckpt.config, dir);
    const params = rows.reduce((a, r) => a + r.params, 0);
    const dtypes = dtypeTotals(rows);
    const tokenizer = await ckpt.tokenizerFiles();
    if (json) {
      out(
        JSON.stringify({
          kind: 'model',
          path: dir,
          architecture: arch,
          parameters: params,
          dtypes,
          tokenizer,
          tensors: rows,
        }),
      );
      return;
    }
    out(`model folder ${dir}`);
    out(
      `  model_type     ${arch.model_type ?? '(none)'}${arch.adapter ? '' : ' (no adapter registered for it)'}`,
    );
    if (arch.architectures.length) out(`  architectures  ${arch.architectures.join(', ')}`);
    out(
      `  layers ${arch.layers ?? '?'}, heads ${arch.heads ?? '?'}, hidden ${arch.hidden ?? '?'}, intermediate ${arch.intermediate ?? '?'}, vocab ${arch.vocab_size ?? '?'}, labels ${arch.num_labels}`,
    );
    out(`  parameters     ${params.toLocaleString('en-US')} in ${rows.length} tensors`);
    out(
      `  dtypes         ${Object.entries(dtypes)
        .map(([d, t]) => `${d}: ${t.params.toLocaleString('en-US')} params (${t.tensors} tensors)`)
        .join('; ')}`,
    );
    out(`  tokenizer      ${tokenizer.length ? tokenizer.join(', ') : '(none)'}`);
    out();
    for (const l of tensorTable(rows)) out(l);
  } finally {
    await ckpt.close();
  }
}

async function inspectFile(path: string, json: boolean): Promise<void> {
  const f = await SafetensorsFile.open(path);
  let format: string | undefined;
  let rows: TensorRow[];
  let metadata: Readonly<Record<string, string>>;
  try {
    format = f.metadata.format;
    metadata = f.metadata;
    rows = f
      .names()
      .sort()
      .map((name) => {
        const i = f.info(name);
        return { name, dtype: i.dtype, shape: [...i.shape], params: numel(i.shape) };
      });
  } finally {
    await f.close();
  }
  if (format === MASK_FISHER_FORMAT) {
    const fisher = await readMaskFisher(path);
    const { layers, heads, intermediate } = fisher.layout;
    const neurons = neuronSummary(fisher.neuron, layers, intermediate);
    if (json) {
      out(
        JSON.stringify({
          kind: 'mask-fisher',
          path,
          metadata,
          layout: fisher.layout,
          head: Array.from({ length: layers }, (_, l) =>
            Array.from(fisher.head.subarray(l * heads, (l + 1) * heads)),
          ),
          neuron_per_layer: neurons,
        }),
      );
      return;
    }
    out(`mask Fisher ${path}`);
    printMetadata(metadata);
    out(`  layout         ${layers} layers x ${heads} heads, ${intermediate} FFN neurons per layer`);
    out();
    out(terminalHeatmap(fisher.head, layers, heads, { title: 'head Fisher (rows: layers, columns: heads)' }));
    out();
    out('neuron Fisher per layer');
    out(
      `  ${'layer'.padEnd(5)}  ${'mean'.padStart(10)}  ${'median'.padStart(10)}  ${'p90'.padStart(10)}  ${'max'.padStart(10)}`,
    );
    for (const n of neurons) {
      out(
        `  ${String(n.layer).padEnd(5)}  ${fmt(n.mean).padStart(10)}  ${fmt(n.median).padStart(10)}  ${fmt(n.p90).padStart(10)}  ${fmt(n.max).padStart(10)}`,
      );
    }
    out();
    const bins = Math.min(intermediate, 32);
    const binned = new Float64Array(layers * bins);
    for (let l = 0; l < layers; l++) {
      for (let i = 0; i < intermediate; i++) {
        const b = Math.floor((i * bins) / intermediate);
        binned[l * bins + b] += fisher.neuron[l * intermediate + i] / Math.ceil(intermediate / bins);
      }
    }
    out(
      terminalHeatmap(binned, layers, bins, {
        title: `neuron Fisher (rows: layers, columns: ${bins === intermediate ? 'neurons' : `${bins} bins of ~${Math.ceil(intermediate / bins)} neurons, mean`})`,
      }),
    );
    return;
  }
  const params = rows.reduce((a, r) => a + r.params, 0);
  const dtypes = dtypeTotals(rows);
  if (json) {
    out(
      JSON.stringify({
        kind: format === FULL_FISHER_FORMAT ? 'full-fisher' : 'safetensors',
        path,
        metadata,
        parameters: params,
        dtypes,
        tensors: rows,
      }),
    );
    return;
  }
  out(`${format === FULL_FISHER_FORMAT ? 'full diagonal Fisher' : 'safetensors file'} ${path}`);
  printMetadata(metadata);
  out(`  parameters     ${params.toLocaleString('en-US')} in ${rows.length} tensors`);
  out(
    `  dtypes         ${Object.entries(dtypes)
      .map(([d, t]) => `${d}: ${t.params.toLocaleString('en-US')} params (${t.tensors} tensors)`)
      .join('; ')}`,
  );
  out();
  for (const l of tensorTable(rows)) out(l);
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'Describe a model folder (architecture, tensor shapes, parameter count, dtypes) or a safetensors file; ' +
        'for a mask Fisher file, draw its head and neuron Fisher as heatmaps in the terminal.',
    )
    .argument(
      '<path>',
      'a HuggingFace model folder, or a .safetensors file (mask Fisher, full Fisher, weights)',
    )
    .option('--json', 'print one JSON object instead of text')
    .action(async (arg: string, opts: { json?: boolean }) => {
      const path = modelDir(arg);
      let st;
      try {
        st = await stat(path);
      } catch {
        throw new FmnError('not found', path);
      }
      if (st.isDirectory()) await inspectModel(path, opts.json === true);
      else await inspectFile(path, opts.json === true);
    });
}
