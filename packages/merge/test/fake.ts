/**
 * A fake architecture for the merge engine's tests: a simple naming scheme whose roles follow
 * METHOD.md 5.1 / 5.2 row by row, and tiny hand-made checkpoints written with core's writer.
 *
 *   emb.word [V, h], emb.norm.{weight,bias} [h]          universal
 *   layer.N.q / .k / .v / .o  {weight [h, h], bias [h]}   attention
 *   layer.N.ln1.{weight,bias} [h]                        attention LayerNorm
 *   layer.N.ffn1 {weight [I, h], bias [I]}               FFN first linear
 *   layer.N.ffn2 {weight [h, I], bias [h]}               FFN second linear
 *   layer.N.ln2.{weight,bias} [h]                        output LayerNorm
 *   pooler.{weight [h, h], bias [h]}                     universal (like BERT's pooler)
 *   head.{weight [labels, h], bias [labels]}             task head
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fromFloat32,
  writeMaskFisher,
  writeSafetensors,
  type ArchitectureAdapter,
  type DType,
  type HfConfig,
  type TensorRole,
  type Weighting,
} from '@fmn/core';
import { Rng } from '@fmn/testkit';

export interface FakeDims {
  layers: number;
  heads: number;
  headSize: number;
  intermediate: number;
  vocab: number;
}

export const DIMS: FakeDims = { layers: 2, heads: 2, headSize: 2, intermediate: 3, vocab: 5 };

function num(config: HfConfig, key: string): number {
  return config[key] as number;
}

export function fakeRole(name: string): TensorRole {
  if (name.startsWith('head.')) return { taskHead: true };
  const universal: Weighting = { kind: 'universal' };
  if (name.startsWith('emb.') || name.startsWith('pooler.'))
    return { taskHead: false, paper: universal, block: universal };
  const m = /^layer\.(\d+)\.(q|k|v|o|ln1|ffn1|ffn2|ln2)\.(weight|bias)$/.exec(name);
  if (!m) throw new Error(`fake adapter: unknown tensor ${name}`);
  const layer = Number(m[1]);
  const part = m[2];
  const isWeight = m[3] === 'weight';
  const headRows: Weighting = { kind: 'per-head', layer, axis: 0 };
  const headMean: Weighting = { kind: 'head-mean', layer };
  const neuronMean: Weighting = { kind: 'neuron-mean', layer };
  switch (part) {
    case 'q':
    case 'k':
      return { taskHead: false, paper: headRows, block: headRows };
    case 'v':
      return { taskHead: false, paper: headMean, block: headRows };
    case 'o':
      return {
        taskHead: false,
        paper: headMean,
        block: isWeight ? { kind: 'per-head', layer, axis: 1 } : headMean,
      };
    case 'ln1':
      return { taskHead: false, paper: headMean, block: headMean };
    case 'ffn1': {
      const w: Weighting = { kind: 'per-neuron', layer, axis: 0 };
      return { taskHead: false, paper: w, block: w };
    }
    case 'ffn2':
      return {
        taskHead: false,
        paper: neuronMean,
        block: isWeight ? { kind: 'per-neuron', layer, axis: 1 } : neuronMean,
      };
    default:
      return { taskHead: false, paper: neuronMean, block: neuronMean };
  }
}

export function fakeAdapter(modelType = 'fake'): ArchitectureAdapter {
  return {
    modelType,
    detect: (c) => c.model_type === modelType,
    maskLayout: (c) => ({
      layers: num(c, 'num_hidden_layers'),
      heads: num(c, 'num_attention_heads'),
      headSize: num(c, 'hidden_size') / num(c, 'num_attention_heads'),
      intermediate: num(c, 'intermediate_size'),
    }),
    load: () => Promise.reject(new Error('fake adapter: load is not used by merge')),
    toTensors: () => [],
    role: (name) => fakeRole(name),
    isTaskHead: (name) => name.startsWith('head.'),
  };
}

/** Finds the fake adapter for any config whose model_type starts with "fake". */
export const fakeAdapterFor = (config: HfConfig): ArchitectureAdapter => fakeAdapter(config.model_type);

export function fakeConfig(d: FakeDims = DIMS, extra: Record<string, unknown> = {}): HfConfig {
  return {
    model_type: 'fake',
    hidden_size: d.heads * d.headSize,
    num_attention_heads: d.heads,
    num_hidden_layers: d.layers,
    intermediate_size: d.intermediate,
    vocab_size: d.vocab,
    ...extra,
  };
}

/** Names and shapes of the fake model's tensors, encoder first then head. */
export function fakeShapes(d: FakeDims = DIMS, labels = 2): [string, number[]][] {
  const h = d.heads * d.headSize;
  const I = d.intermediate;
  const out: [string, number[]][] = [
    ['emb.word', [d.vocab, h]],
    ['emb.norm.weight', [h]],
    ['emb.norm.bias', [h]],
  ];
  for (let l = 0; l < d.layers; l++) {
    for (const p of ['q', 'k', 'v', 'o'])
      out.push([`layer.${l}.${p}.weight`, [h, h]], [`layer.${l}.${p}.bias`, [h]]);
    out.push([`layer.${l}.ln1.weight`, [h]], [`layer.${l}.ln1.bias`, [h]]);
    out.push([`layer.${l}.ffn1.weight`, [I, h]], [`layer.${l}.ffn1.bias`, [I]]);
    out.push([`layer.${l}.ffn2.weight`, [h, I]], [`layer.${l}.ffn2.bias`, [h]]);
    out.push([`layer.${l}.ln2.weight`, [h]], [`layer.${l}.ln2.bias`, [h]]);
  }
  out.push(['pooler.weight', [h, h]], ['pooler.bias', [h]]);
  out.push(['head.weight', [labels, h]], ['head.bias', [labels]]);
  return out;
}

export interface FakeModelOptions {
  dims?: FakeDims;
  labels?: number;
  dtype?: DType;
  config?: Record<string, unknown>;
  /** tensor values; default: seeded normals */
  values?: (name: string, shape: number[]) => Float32Array;
  seed?: number;
  /** tensors to leave out / override the shape of */
  omit?: string[];
  shapes?: Record<string, number[]>;
  vocabTxt?: string;
}

/** Writes a fake HF folder; returns the values written (as float32, before any dtype rounding). */
export async function writeFakeModel(
  dir: string,
  o: FakeModelOptions = {},
): Promise<Map<string, Float32Array>> {
  const dims = o.dims ?? DIMS;
  const rng = new Rng(o.seed ?? 1);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(fakeConfig(dims, o.config ?? {})));
  await writeFile(join(dir, 'vocab.txt'), o.vocabTxt ?? '[PAD]\n[CLS]\n[SEP]\na\nb\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, dir }));
  const values = new Map<string, Float32Array>();
  const tensors = [];
  for (const [name, shape0] of fakeShapes(dims, o.labels ?? 2)) {
    if (o.omit?.includes(name)) continue;
    const shape = o.shapes?.[name] ?? shape0;
    const n = shape.reduce((a, b) => a * b, 1);
    const v = o.values ? o.values(name, shape) : rng.normals(n);
    values.set(name, v);
    tensors.push({ name, dtype: o.dtype ?? 'F32', shape, data: fromFloat32(v, o.dtype ?? 'F32') });
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return values;
}

/** Writes a mask Fisher file: head [L, H], neuron [L, I] given as nested arrays. */
export async function writeFakeMaskFisher(
  path: string,
  head: number[][],
  neuron: number[][],
  headSize = 2,
): Promise<void> {
  await writeMaskFisher(path, {
    layout: { layers: head.length, heads: head[0].length, headSize, intermediate: neuron[0].length },
    head: Float32Array.from(head.flat()),
    neuron: Float32Array.from(neuron.flat()),
    examples: 1,
  });
}

/** Writes a full Fisher file: one F32 tensor per parameter (head tensors included, as a real one has). */
export async function writeFakeFullFisher(
  path: string,
  values: (name: string, n: number) => Float32Array,
  o: { dims?: FakeDims; omit?: string[]; metadata?: Record<string, string> } = {},
): Promise<void> {
  const tensors = fakeShapes(o.dims ?? DIMS)
    .filter(([name]) => !o.omit?.includes(name))
    .map(([name, shape]) => ({
      name,
      dtype: 'F32' as const,
      shape,
      data: fromFloat32(
        values(
          name,
          shape.reduce((a, b) => a * b, 1),
        ),
        'F32',
      ),
    }));
  await writeSafetensors(path, tensors, o.metadata);
}
