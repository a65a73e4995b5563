/**
 * Benchmark inputs written from scratch with Node's own modules (no package of the repo): random
 * BERT-base-shaped HuggingFace folders (config.json + model.safetensors, fp32) and a pre-tokenized
 * JSONL data file (input_ids, token_type_ids, attention_mask, label), so fmn needs no tokenizer and
 * the PyTorch anchor reads exactly the same weights and tokens.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';

export const BERT_BASE = {
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  vocab: 30522,
  positions: 512,
};

/** [name, shape, kind] of a BertForSequenceClassification checkpoint; kind picks the initial values. */
export function bertTensors(dims, numLabels) {
  const { layers, hidden, intermediate, vocab, positions } = dims;
  const t = [
    ['bert.embeddings.word_embeddings.weight', [vocab, hidden], 'w'],
    ['bert.embeddings.position_embeddings.weight', [positions, hidden], 'w'],
    ['bert.embeddings.token_type_embeddings.weight', [2, hidden], 'w'],
    ['bert.embeddings.LayerNorm.weight', [hidden], 'one'],
    ['bert.embeddings.LayerNorm.bias', [hidden], 'b'],
  ];
  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of [
      'attention.self.query',
      'attention.self.key',
      'attention.self.value',
      'attention.output.dense',
    ])
      t.push([`${p}${n}.weight`, [hidden, hidden], 'w'], [`${p}${n}.bias`, [hidden], 'b']);
    t.push(
      [`${p}attention.output.LayerNorm.weight`, [hidden], 'one'],
      [`${p}attention.output.LayerNorm.bias`, [hidden], 'b'],
    );
    t.push(
      [`${p}intermediate.dense.weight`, [intermediate, hidden], 'w'],
      [`${p}intermediate.dense.bias`, [intermediate], 'b'],
    );
    t.push(
      [`${p}output.dense.weight`, [hidden, intermediate], 'w'],
      [`${p}output.dense.bias`, [hidden], 'b'],
    );
    t.push([`${p}output.LayerNorm.weight`, [hidden], 'one'], [`${p}output.LayerNorm.bias`, [hidden], 'b']);
  }
  t.push(['bert.pooler.dense.weight', [hidden, hidden], 'w'], ['bert.pooler.dense.bias', [hidden], 'b']);
  t.push(['classifier.weight', [numLabels, hidden], 'w'], ['classifier.bias', [numLabels], 'b']);
  return t;
}

/** xorshift32 uniform values: weights ~U(-0.035, 0.035) (std 0.02), biases small, norms near 1. */
function values(n, seed, kind) {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  const scale = kind === 'w' ? 0.0693 : 0.02;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 4294967296 - 0.5;
    a[i] = kind === 'one' ? 1 + u * 0.02 : u * scale;
  }
  return a;
}

/** Writes a random BERT-base folder; returns the size of model.safetensors in bytes. */
export async function writeBertFolder(dir, { seed = 1, numLabels = 2, dims = BERT_BASE } = {}) {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      hidden_size: dims.hidden,
      num_attention_heads: dims.heads,
      num_hidden_layers: dims.layers,
      intermediate_size: dims.intermediate,
      vocab_size: dims.vocab,
      max_position_embeddings: dims.positions,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      num_labels: numLabels,
    }),
  );
  const tensors = bertTensors(dims, numLabels);
  const header = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const path = join(dir, 'model.safetensors');
  const out = createWriteStream(path);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  out.write(len);
  out.write(json);
  for (const [k, [, shape, kind]] of tensors.entries()) {
    const v = values(
      shape.reduce((a, b) => a * b, 1),
      seed * 7919 + k,
      kind,
    );
    if (!out.write(Buffer.from(v.buffer))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return (await stat(path)).size;
}

/** A pre-tokenized JSONL file of `n` examples of exactly `seqLen` tokens ([CLS] ... [SEP], no padding). */
export async function writeTokenData(
  path,
  { n = 128, seqLen = 128, vocab = BERT_BASE.vocab, numLabels = 2, seed = 3 } = {},
) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const lines = [];
  for (let i = 0; i < n; i++) {
    const ids = [101];
    for (let t = 1; t < seqLen - 1; t++) ids.push(1000 + Math.floor(next() * (vocab - 1000)));
    ids.push(102);
    const types = ids.map((_, t) => (t < seqLen / 2 ? 0 : 1));
    lines.push(
      JSON.stringify({
        input_ids: ids,
        token_type_ids: types,
        attention_mask: ids.map(() => 1),
        label: Math.floor(next() * numLabels),
      }),
    );
  }
  await writeFile(path, lines.join('\n') + '\n');
}

/** A mask Fisher file as `fmn fisher` writes it (float32 head [L, H], neuron [L, I]) with made-up positive values. */
export async function writeMaskFisherFile(path, { seed = 1, dims = BERT_BASE, examples = 128 } = {}) {
  const { layers: L, heads: H, intermediate: I, hidden } = dims;
  const head = values(L * H, seed * 31 + 1, 'b').map((v) => Math.abs(v) + 1e-3);
  const neuron = values(L * I, seed * 31 + 2, 'b').map((v) => Math.abs(v) + 1e-3);
  const header = {
    __metadata__: { format: 'fmn-mask-fisher', head_size: String(hidden / H), examples: String(examples) },
    head: { dtype: 'F32', shape: [L, H], data_offsets: [0, head.byteLength] },
    neuron: {
      dtype: 'F32',
      shape: [L, I],
      data_offsets: [head.byteLength, head.byteLength + neuron.byteLength],
    },
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await writeFile(
    path,
    Buffer.concat([len, Buffer.from(json), Buffer.from(head.buffer), Buffer.from(neuron.buffer)]),
  );
}
