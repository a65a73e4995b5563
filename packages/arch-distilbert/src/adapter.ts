/**
 * DistilBERT (model_type "distilbert"): its own names (`transformer.layer.N.attention.q_lin`, ...)
 * and config keys (dim, n_heads, n_layers, hidden_dim, activation); word + position embeddings
 * (no token types), every LayerNorm with eps 1e-12; head `pre_classifier` -> ReLU -> `classifier`.
 * `sinusoidal_pos_embds` (fixed sinusoidal positions, recomputed by HuggingFace at load) is not
 * supported: such a config is an error.
 */
import {
  FmnError,
  configNumLabels,
  describeConfigValue,
  type ArchitectureAdapter,
  type Checkpoint,
  type EncoderLayer,
  type EncoderModel,
  type HfConfig,
  type LoadOptions,
  type MaskLayout,
  type TensorRole,
} from '@fmn/core';
import {
  TASK_HEAD,
  UNIVERSAL,
  configActivation,
  configArchitecture,
  configFile,
  checkTensors,
  configInt,
  detectPrefix,
  headSizeOf,
  isBuffer,
  layerRole,
  linearSpecs,
  normSpecs,
  readTensors,
  stripPrefix,
  takeLinear,
  takeNorm,
  toTensors,
  tokenizerConventions,
  WORDPIECE_SPECIAL_TOKENS,
  type LayerSlot,
  type ReadTensorsOptions,
  type TensorSpec,
} from '@fmn/arch-bert';

const PREFIX = 'distilbert.';
/** nn.LayerNorm(dim, eps=1e-12) everywhere in modeling_distilbert */
const EPS = 1e-12;

/** The slots of one layer, by the name inside `transformer.layer.N.`. */
const SLOTS: readonly [string, LayerSlot, 'linear' | 'norm'][] = [
  ['attention.q_lin', 'query', 'linear'],
  ['attention.k_lin', 'key', 'linear'],
  ['attention.v_lin', 'value', 'linear'],
  ['attention.out_lin', 'attentionOutput', 'linear'],
  ['sa_layer_norm', 'attentionNorm', 'norm'],
  ['ffn.lin1', 'intermediate', 'linear'],
  ['ffn.lin2', 'output', 'linear'],
  ['output_layer_norm', 'outputNorm', 'norm'],
];

function readConfig(config: HfConfig, file?: string) {
  const dim = configInt(config, 'dim', 768, file);
  const heads = configInt(config, 'n_heads', 12, file);
  const sinusoidal = config.sinusoidal_pos_embds ?? false;
  if (sinusoidal !== false) {
    throw new FmnError(
      `unsupported "sinusoidal_pos_embds" ${describeConfigValue(sinusoidal)} in config.json (fmn reads learned position embeddings only: false)`,
      file,
    );
  }
  return {
    vocab: configInt(config, 'vocab_size', 30522, file),
    dim,
    heads,
    headSize: headSizeOf(dim, heads, file, ['dim', 'n_heads']),
    layers: configInt(config, 'n_layers', 6, file),
    hiddenDim: configInt(config, 'hidden_dim', 3072, file),
    maxPositions: configInt(config, 'max_position_embeddings', 512, file),
    padTokenId: configInt(config, 'pad_token_id', 0, file),
    activation: configActivation(config, 'activation', 'gelu', file),
  };
}

const layerRe = /^transformer\.layer\.(\d+)\.(.+)\.(weight|bias)$/;

function role(name: string, _config: HfConfig): TensorRole {
  if (/^(pre_classifier|classifier)\.(weight|bias)$/.test(name)) return TASK_HEAD;
  const local = stripPrefix(name, PREFIX);
  if (local.startsWith('embeddings.')) return UNIVERSAL;
  const m = layerRe.exec(local);
  const slot = m && SLOTS.find(([n]) => n === m[2]);
  if (m && slot) return layerRole(slot[1], m[3] as 'weight' | 'bias', Number(m[1]));
  throw new FmnError(`"${name}" is not a tensor of a distilbert model that fmn merges`);
}

/** What a checkpoint must hold, from its config.json and the header's names (nothing read). */
function plan(checkpoint: Checkpoint) {
  const file = configFile(checkpoint);
  const config = checkpoint.config;
  const c = readConfig(config, file);
  const p = detectPrefix(checkpoint, PREFIX);
  const arch = configArchitecture(config) ?? '';
  const withHead =
    arch === 'DistilBertForSequenceClassification' ||
    checkpoint.has('classifier.weight') ||
    checkpoint.has('classifier.bias');
  const required: TensorSpec[] = [
    { name: `${p}embeddings.word_embeddings.weight`, shape: [c.vocab, c.dim] },
    { name: `${p}embeddings.position_embeddings.weight`, shape: [c.maxPositions, c.dim] },
    ...normSpecs(`${p}embeddings.LayerNorm`, c.dim),
  ];
  for (let l = 0; l < c.layers; l++) {
    for (const [n, slot, kind] of SLOTS) {
      const full = `${p}transformer.layer.${l}.${n}`;
      if (kind === 'norm') required.push(...normSpecs(full, c.dim));
      else {
        const out = slot === 'intermediate' ? c.hiddenDim : c.dim;
        const inp = slot === 'output' ? c.hiddenDim : c.dim;
        required.push(...linearSpecs(full, out, inp));
      }
    }
  }
  let numLabels = 0;
  if (withHead) {
    numLabels = configNumLabels(config, file);
    if (checkpoint.has('classifier.weight')) {
      const info = checkpoint.info('classifier.weight');
      if (info.shape.length === 2 && info.shape[0] !== numLabels) {
        throw new FmnError(
          `config.json gives ${numLabels} label${numLabels === 1 ? '' : 's'} (num_labels / id2label) but the head's "classifier.weight" in ${info.file} has ${info.shape[0]} rows`,
          file,
        );
      }
    }
    required.push(
      ...linearSpecs('pre_classifier', c.dim, c.dim),
      ...linearSpecs('classifier', numLabels, c.dim),
    );
  }
  const options: ReadTensorsOptions = {
    ignore: isBuffer,
    what: `a ${arch || 'DistilBert'} model (distilbert${withHead ? ', sequence classification' : ', no head'})`,
  };
  return { c, p, withHead, numLabels, required, options };
}

function checkHeader(checkpoint: Checkpoint): void {
  const { required, options } = plan(checkpoint);
  checkTensors(checkpoint, required, options);
}

async function load(checkpoint: Checkpoint, loadOptions: LoadOptions = {}): Promise<EncoderModel> {
  const { c, p, withHead, numLabels, required, options } = plan(checkpoint);
  const params = await readTensors(checkpoint, required, { ...options, onWarning: loadOptions.onWarning });
  const layers: EncoderLayer[] = [];
  for (let l = 0; l < c.layers; l++) {
    const q = `${p}transformer.layer.${l}`;
    layers.push({
      query: takeLinear(params, `${q}.attention.q_lin`),
      key: takeLinear(params, `${q}.attention.k_lin`),
      value: takeLinear(params, `${q}.attention.v_lin`),
      attentionOutput: takeLinear(params, `${q}.attention.out_lin`),
      attentionNorm: takeNorm(params, `${q}.sa_layer_norm`, EPS),
      intermediate: takeLinear(params, `${q}.ffn.lin1`),
      output: takeLinear(params, `${q}.ffn.lin2`),
      outputNorm: takeNorm(params, `${q}.output_layer_norm`, EPS),
    });
  }
  return {
    modelType: 'distilbert',
    dims: {
      vocabSize: c.vocab,
      hidden: c.dim,
      embeddingSize: c.dim,
      numLayers: c.layers,
      numHeads: c.heads,
      headSize: c.headSize,
      intermediate: c.hiddenDim,
      maxPositions: c.maxPositions,
      typeVocabSize: 0,
      padTokenId: c.padTokenId,
    },
    activation: c.activation,
    embeddings: {
      word: params.get(`${p}embeddings.word_embeddings.weight`)!,
      position: params.get(`${p}embeddings.position_embeddings.weight`)!,
      norm: takeNorm(params, `${p}embeddings.LayerNorm`, EPS),
      positionIds: { kind: 'absolute' },
    },
    layers,
    head: withHead
      ? {
          kind: 'classification',
          numLabels,
          steps: [
            { linear: takeLinear(params, 'pre_classifier'), activation: 'relu' },
            { linear: takeLinear(params, 'classifier'), activation: 'identity' },
          ],
        }
      : undefined,
  };
}

export const distilbertAdapter: ArchitectureAdapter = {
  modelType: 'distilbert',
  detect: (config) =>
    config.model_type === 'distilbert' ||
    (config.model_type === undefined && (configArchitecture(config) ?? '').startsWith('DistilBert')),
  maskLayout(config: HfConfig): MaskLayout {
    const c = readConfig(config);
    return { layers: c.layers, heads: c.heads, headSize: c.headSize, intermediate: c.hiddenDim };
  },
  load,
  checkHeader,
  toTensors,
  role,
  isTaskHead: (name) => /^(pre_classifier|classifier)\./.test(name),
  prefix: PREFIX,
  // BERT's WordPiece tokenizer and template; DistilBERT takes no token type ids at all
  tokenizer: tokenizerConventions({
    template: 'bert',
    specialTokens: WORDPIECE_SPECIAL_TOKENS,
    files: ['vocab.txt'],
    typeVocabSize: 'none',
  }),
  fixture: () => import('./testing/distilbert.js').then((m) => m.distilbertFixture),
};
