/**
 * The zoo's model shapes: fresh encoder descriptions (with a masked-LM head for pre-training),
 * fresh classification heads, HuggingFace config.json files, and fp16 safetensors writing.
 * Tensor names follow HuggingFace's modeling files for each architecture.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  atomicDir,
  encoderParams,
  fromFloat32,
  writeFileAtomic,
  writeSafetensors,
  type Activation,
  type EncoderLayer,
  type EncoderModel,
  type HeadStep,
  type HfConfig,
  type LayerNorm,
  type Linear,
  type Param,
} from '@fmn/core';
import type { ZooArch } from '@fmn/zoo';
import { Rand } from './rng.js';

export interface ModelShape {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** ELECTRA's embedding_size (< hidden: embeddings_project is present). */
  electraEmbedding: number;
  /** Longest input in tokens, special tokens included. */
  maxLength: number;
}

export const DEFAULT_SHAPE: ModelShape = {
  hidden: 128,
  layers: 2,
  heads: 4,
  intermediate: 256,
  electraEmbedding: 64,
  maxLength: 64,
};

const CLASS: Record<ZooArch, string> = {
  bert: 'Bert',
  roberta: 'Roberta',
  distilbert: 'DistilBert',
  electra: 'Electra',
};
const INIT_STD = 0.02; // HuggingFace initializer_range

interface Dims {
  V: number;
  H: number;
  E: number;
  L: number;
  nH: number;
  I: number;
  P: number;
  T: number;
  pad: number;
  eps: number;
}

function dimsOf(arch: ZooArch, s: ModelShape, vocabSize: number): Dims {
  const pad = arch === 'roberta' ? 1 : 0;
  return {
    V: vocabSize,
    H: s.hidden,
    E: arch === 'electra' ? s.electraEmbedding : s.hidden,
    L: s.layers,
    nH: s.heads,
    I: s.intermediate,
    // RoBERTa's positions start after the padding id
    P: arch === 'roberta' ? s.maxLength + pad + 1 : s.maxLength,
    T: arch === 'roberta' ? 1 : arch === 'distilbert' ? 0 : 2,
    pad,
    eps: arch === 'roberta' ? 1e-5 : 1e-12,
  };
}

/** Seeded HuggingFace-style initialisation: weights N(0, 0.02), biases 0, LayerNorm 1 / 0. */
class Init {
  private readonly rand: Rand;
  constructor(seed: string) {
    this.rand = new Rand(seed);
  }
  private normal(): number {
    const u = Math.max(this.rand.next(), 1e-12);
    const v = this.rand.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  weight(name: string, shape: number[], zeroRow?: number): Param {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.normal() * INIT_STD;
    if (zeroRow !== undefined) data.fill(0, zeroRow * shape[1], (zeroRow + 1) * shape[1]);
    return { name, shape, data };
  }
  zeros(name: string, shape: number[]): Param {
    return { name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  }
  linear(name: string, out: number, inp: number): Linear {
    return { weight: this.weight(`${name}.weight`, [out, inp]), bias: this.zeros(`${name}.bias`, [out]) };
  }
  norm(name: string, n: number, eps: number): LayerNorm {
    const weight = this.zeros(`${name}.weight`, [n]);
    weight.data.fill(1);
    return { weight, bias: this.zeros(`${name}.bias`, [n]), eps };
  }
}

/** A freshly initialised encoder of `arch` with its masked-LM head (decoder tied to the word embeddings). */
export function initMlmModel(
  arch: ZooArch,
  shape: ModelShape,
  vocabSize: number,
  seed: string,
): EncoderModel {
  const d = dimsOf(arch, shape, vocabSize);
  if (d.H % d.nH !== 0) throw new Error(`hidden ${d.H} is not divisible by ${d.nH} heads`);
  const init = new Init(`${seed}/${arch}/init`);
  const p = `${arch}.`;
  const word = init.weight(`${p}embeddings.word_embeddings.weight`, [d.V, d.E], d.pad);
  const embeddings = {
    word,
    position: init.weight(
      `${p}embeddings.position_embeddings.weight`,
      [d.P, d.E],
      arch === 'roberta' ? d.pad : undefined,
    ),
    tokenType: d.T > 0 ? init.weight(`${p}embeddings.token_type_embeddings.weight`, [d.T, d.E]) : undefined,
    norm: init.norm(`${p}embeddings.LayerNorm`, d.E, d.eps),
    project: d.E !== d.H ? init.linear(`${p}embeddings_project`, d.H, d.E) : undefined,
    positionIds:
      arch === 'roberta'
        ? ({ kind: 'padding-offset', padTokenId: d.pad } as const)
        : ({ kind: 'absolute' } as const),
  };
  const layers: EncoderLayer[] = [];
  for (let l = 0; l < d.L; l++) {
    if (arch === 'distilbert') {
      const q = `${p}transformer.layer.${l}`;
      layers.push({
        query: init.linear(`${q}.attention.q_lin`, d.H, d.H),
        key: init.linear(`${q}.attention.k_lin`, d.H, d.H),
        value: init.linear(`${q}.attention.v_lin`, d.H, d.H),
        attentionOutput: init.linear(`${q}.attention.out_lin`, d.H, d.H),
        attentionNorm: init.norm(`${q}.sa_layer_norm`, d.H, d.eps),
        intermediate: init.linear(`${q}.ffn.lin1`, d.I, d.H),
        output: init.linear(`${q}.ffn.lin2`, d.H, d.I),
        outputNorm: init.norm(`${q}.output_layer_norm`, d.H, d.eps),
      });
    } else {
      const q = `${p}encoder.layer.${l}`;
      layers.push({
        query: init.linear(`${q}.attention.self.query`, d.H, d.H),
        key: init.linear(`${q}.attention.self.key`, d.H, d.H),
        value: init.linear(`${q}.attention.self.value`, d.H, d.H),
        attentionOutput: init.linear(`${q}.attention.output.dense`, d.H, d.H),
        attentionNorm: init.norm(`${q}.attention.output.LayerNorm`, d.H, d.eps),
        intermediate: init.linear(`${q}.intermediate.dense`, d.I, d.H),
        output: init.linear(`${q}.output.dense`, d.H, d.I),
        outputNorm: init.norm(`${q}.output.LayerNorm`, d.H, d.eps),
      });
    }
  }
  // masked-LM heads as HuggingFace names them (BertForMaskedLM, RobertaForMaskedLM, DistilBertForMaskedLM, ElectraForMaskedLM)
  const headNames: Record<ZooArch, [string, string, string]> = {
    bert: ['cls.predictions.transform.dense', 'cls.predictions.transform.LayerNorm', 'cls.predictions.bias'],
    roberta: ['lm_head.dense', 'lm_head.layer_norm', 'lm_head.bias'],
    distilbert: ['vocab_transform', 'vocab_layer_norm', 'vocab_projector.bias'],
    electra: ['generator_predictions.dense', 'generator_predictions.LayerNorm', 'generator_lm_head.bias'],
  };
  const [dense, ln, bias] = headNames[arch];
  return {
    modelType: arch,
    dims: {
      vocabSize: d.V,
      hidden: d.H,
      embeddingSize: d.E,
      numLayers: d.L,
      numHeads: d.nH,
      headSize: d.H / d.nH,
      intermediate: d.I,
      maxPositions: d.P,
      typeVocabSize: d.T,
      padTokenId: d.pad,
    },
    activation: 'gelu',
    embeddings,
    layers,
    head: {
      kind: 'masked-lm',
      transform: init.linear(dense, d.E, d.H),
      activation: 'gelu',
      norm: init.norm(ln, d.E, d.eps),
      decoder: word,
      decoderBias: init.zeros(bias, [d.V]),
    },
  };
}

/** The classification head's activation before the output layer, per architecture (HuggingFace). */
export const HEAD_ACTIVATION: Record<ZooArch, Activation> = {
  bert: 'tanh', // pooler
  roberta: 'tanh', // RobertaClassificationHead
  distilbert: 'relu', // pre_classifier
  electra: 'gelu', // ElectraClassificationHead
};

/**
 * BERT's pooler (`pooler.dense`, part of the base model in HuggingFace: BertModel has one). The
 * masked-LM pre-training does not train it, so it is initialised once per zoo (seeded), stored in
 * the base and shared by every fine-tuning start, as fine-tuning a BertModel checkpoint would.
 */
export function bertPooler(hidden: number, seed: string): Linear {
  return new Init(`${seed}/bert/pooler`).linear('bert.pooler.dense', hidden, hidden);
}

const copyParam = (p: Param, name = p.name): Param => ({
  name,
  shape: [...p.shape],
  data: Float32Array.from(p.data),
});

/**
 * The encoder of `model` with a fresh sequence-classification head of `numLabels` outputs (seeded
 * by `seed`). BERT's pooler is not fresh: it is the base model's (`model.extras`, as read from a
 * base checkpoint) or else `bertPooler(hidden, poolerSeed)`.
 */
export function withClassifier(
  model: EncoderModel,
  arch: ZooArch,
  numLabels: number,
  seed: string,
  poolerSeed = seed,
): EncoderModel {
  const init = new Init(`${seed}/${arch}/head`);
  const H = model.dims.hidden;
  let first: Linear;
  let out: string;
  if (arch === 'bert') {
    const w = model.extras?.find((p) => /(^|\.)pooler\.dense\.weight$/.test(p.name));
    const b = model.extras?.find((p) => /(^|\.)pooler\.dense\.bias$/.test(p.name));
    first =
      w && b
        ? { weight: copyParam(w, 'bert.pooler.dense.weight'), bias: copyParam(b, 'bert.pooler.dense.bias') }
        : bertPooler(H, poolerSeed);
    out = 'classifier';
  } else if (arch === 'distilbert') {
    first = init.linear('pre_classifier', H, H);
    out = 'classifier';
  } else {
    first = init.linear('classifier.dense', H, H);
    out = 'classifier.out_proj';
  }
  const steps: HeadStep[] = [
    { linear: first, activation: HEAD_ACTIVATION[arch] },
    { linear: init.linear(out, numLabels, H), activation: 'identity' },
  ];
  const { head: _drop, extras: _extras, ...encoder } = model;
  return { ...encoder, head: { kind: 'classification', numLabels, steps } };
}

/** config.json as transformers' save_pretrained writes it (sorted keys). */
export function configFor(
  arch: ZooArch,
  model: EncoderModel,
  head: { numLabels: number; labels: readonly string[] } | undefined,
): HfConfig {
  const d = model.dims;
  const c: Record<string, unknown> = {
    architectures: [head ? `${CLASS[arch]}ForSequenceClassification` : `${CLASS[arch]}Model`],
    model_type: arch,
    torch_dtype: 'float16',
    transformers_version: '4.44.2',
    vocab_size: d.vocabSize,
    max_position_embeddings: d.maxPositions,
    pad_token_id: d.padTokenId,
    initializer_range: INIT_STD,
  };
  const eps = model.embeddings.norm.eps;
  if (arch === 'distilbert') {
    Object.assign(c, {
      activation: 'gelu',
      attention_dropout: 0.1,
      dim: d.hidden,
      dropout: 0.1,
      hidden_dim: d.intermediate,
      n_heads: d.numHeads,
      n_layers: d.numLayers,
      qa_dropout: 0.1,
      seq_classif_dropout: 0.2,
      sinusoidal_pos_embds: false,
      tie_weights_: true,
    });
  } else {
    Object.assign(c, {
      attention_probs_dropout_prob: 0.1,
      classifier_dropout: null,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: d.hidden,
      intermediate_size: d.intermediate,
      layer_norm_eps: eps,
      num_attention_heads: d.numHeads,
      num_hidden_layers: d.numLayers,
      position_embedding_type: 'absolute',
      type_vocab_size: d.typeVocabSize,
      use_cache: true,
    });
  }
  if (arch === 'roberta') Object.assign(c, { bos_token_id: 0, eos_token_id: 2 });
  if (arch === 'electra') {
    Object.assign(c, {
      embedding_size: d.embeddingSize,
      summary_activation: 'gelu',
      summary_last_dropout: 0.1,
      summary_type: 'first',
      summary_use_proj: true,
    });
  }
  if (head) {
    const names = head.numLabels === 1 ? ['LABEL_0'] : head.labels;
    c.id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
    c.label2id = Object.fromEntries(names.map((n, i) => [n, i]));
    if (head.numLabels === 1) c.problem_type = 'regression';
    else c.problem_type = 'single_label_classification';
  }
  const sorted = Object.fromEntries(
    Object.keys(c)
      .sort()
      .map((k) => [k, c[k]]),
  );
  return sorted as HfConfig;
}

/**
 * Writes `model` as a HuggingFace folder: config.json, model.safetensors (fp16) and the tokenizer
 * files from `tokenizerDir`. Without a classification head the bare encoder (and its `extras`, e.g.
 * BERT's pooler) is written as `XModel.save_pretrained` does (no architecture prefix). Atomic
 * (temp folder + rename).
 */
export async function writeZooModel(
  dir: string,
  arch: ZooArch,
  model: EncoderModel,
  tokenizerDir: string,
  tokenizerFiles: readonly string[],
  head?: { numLabels: number; labels: readonly string[] },
  metadata: Record<string, string> = {},
): Promise<void> {
  const config = configFor(arch, model, model.head?.kind === 'classification' ? head : undefined);
  // a classifier's encoder tensors carry the architecture prefix (a base read from disk has none)
  const encoderName = /^(embeddings\.|embeddings_project\.|encoder\.|transformer\.)/;
  let params = encoderParams(model).map((p) =>
    encoderName.test(p.name) ? { ...p, name: `${arch}.${p.name}` } : p,
  );
  const bare = model.head?.kind !== 'classification';
  if (bare) {
    const enc = [...encoderParams({ ...model, head: undefined }), ...(model.extras ?? [])];
    params = enc.map((p) => ({
      ...p,
      name: p.name.startsWith(`${arch}.`) ? p.name.slice(arch.length + 1) : p.name,
    }));
  }
  await mkdir(join(dir, '..'), { recursive: true });
  await atomicDir(
    dir,
    async (tmp) => {
      await writeFileAtomic(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      await writeSafetensors(
        join(tmp, 'model.safetensors'),
        params.map((p) => ({ name: p.name, dtype: 'F16', shape: p.shape, data: fromFloat32(p.data, 'F16') })),
        { format: 'pt', ...metadata },
      );
      for (const f of tokenizerFiles) await copyFile(join(tokenizerDir, f), join(tmp, f));
    },
    { force: true },
  );
}
