/**
 * One adapter factory for the architectures whose layers are named as BERT's
 * (`encoder.layer.N.attention.self.query`, ...): BERT, RoBERTa and ELECTRA differ only in their
 * embeddings (RoBERTa's position ids, ELECTRA's embedding_size and embeddings_project), their
 * pooler and their classification head, which the spec describes.
 */
import {
  FmnError,
  configNumLabels,
  encoderParams,
  type Activation,
  type ArchitectureAdapter,
  type ArchitectureFixture,
  type Checkpoint,
  type EncoderLayer,
  type EncoderModel,
  type HeadStep,
  type HfConfig,
  type LoadOptions,
  type MaskLayout,
  type Param,
  type TensorRole,
  type TokenizerConventions,
} from '@fmn/core';
import {
  TASK_HEAD,
  UNIVERSAL,
  configActivation,
  configArchitecture,
  configFile,
  checkTensors,
  configInt,
  configNumber,
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
  type LayerSlot,
  type ReadTensorsOptions,
  type TensorSpec,
} from './kit.js';

export interface BertLikeSpec {
  /** HuggingFace model_type */
  readonly modelType: string;
  /** class-name stem in config.architectures ("Bert", "Roberta", "Electra") */
  readonly className: string;
  /** base_model_prefix with its dot ("bert.") */
  readonly prefix: string;
  /** HuggingFace config defaults for keys a config.json may omit */
  readonly defaults: {
    readonly padTokenId: number;
    readonly layerNormEps: number;
    readonly embeddingSize?: number;
  };
  /** RoBERTa: position ids from pad_token_id */
  readonly paddingOffsetPositions: boolean;
  /** ELECTRA: embeddings at `embedding_size`, then `embeddings_project` when it differs from hidden_size */
  readonly embeddingSizeKey: boolean;
  /**
   * `bert`: pooler.dense -> tanh -> classifier (the pooler is required with a head);
   * `dense-out-proj`: classifier.dense -> activation -> classifier.out_proj (no pooler with a head).
   */
  readonly head:
    { readonly kind: 'bert' } | { readonly kind: 'dense-out-proj'; readonly activation: Activation };
  /** The bare base model (XModel) has a pooler (HF add_pooling_layer=True): BERT, RoBERTa. */
  readonly basePooler: boolean;
  /** the tokenizer's conventions (`tokenizerConventions` builds them) */
  readonly tokenizer: TokenizerConventions;
  /** test only: loads the fixture spec from the package's `testing` subpath */
  readonly fixture?: () => Promise<ArchitectureFixture>;
}

/** The BERT-named slots of one layer, by the name inside `encoder.layer.N.`. */
export const BERT_LAYER_SLOTS: readonly [string, LayerSlot, 'linear' | 'norm'][] = [
  ['attention.self.query', 'query', 'linear'],
  ['attention.self.key', 'key', 'linear'],
  ['attention.self.value', 'value', 'linear'],
  ['attention.output.dense', 'attentionOutput', 'linear'],
  ['attention.output.LayerNorm', 'attentionNorm', 'norm'],
  ['intermediate.dense', 'intermediate', 'linear'],
  ['output.dense', 'output', 'linear'],
  ['output.LayerNorm', 'outputNorm', 'norm'],
];

interface BertLikeConfig {
  vocab: number;
  hidden: number;
  embeddingSize: number;
  heads: number;
  headSize: number;
  layers: number;
  intermediate: number;
  maxPositions: number;
  typeVocab: number;
  padTokenId: number;
  eps: number;
  activation: Activation;
}

function readConfig(spec: BertLikeSpec, config: HfConfig, file?: string): BertLikeConfig {
  const hidden = configInt(config, 'hidden_size', 768, file);
  const heads = configInt(config, 'num_attention_heads', 12, file);
  const headSize = headSizeOf(hidden, heads, file);
  const pet = config.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') {
    throw new FmnError(
      `unsupported position_embedding_type ${JSON.stringify(pet)} in config.json (only "absolute")`,
      file,
    );
  }
  return {
    vocab: configInt(config, 'vocab_size', 30522, file),
    hidden,
    embeddingSize: spec.embeddingSizeKey
      ? configInt(config, 'embedding_size', spec.defaults.embeddingSize, file)
      : hidden,
    heads,
    headSize,
    layers: configInt(config, 'num_hidden_layers', 12, file),
    intermediate: configInt(config, 'intermediate_size', 3072, file),
    maxPositions: configInt(config, 'max_position_embeddings', 512, file),
    typeVocab: configInt(config, 'type_vocab_size', 2, file),
    padTokenId: configInt(config, 'pad_token_id', spec.defaults.padTokenId, file),
    eps: configNumber(config, 'layer_norm_eps', spec.defaults.layerNormEps, file),
    activation: configActivation(config, 'hidden_act', 'gelu', file),
  };
}

/** Head tensors' names (never prefixed) for a spec. */
function headNames(spec: BertLikeSpec): { hidden?: string; out: string } {
  return spec.head.kind === 'bert'
    ? { out: 'classifier' }
    : { hidden: 'classifier.dense', out: 'classifier.out_proj' };
}

/** Builds an adapter for a BERT-named architecture. */
export function createBertLikeAdapter(spec: BertLikeSpec): ArchitectureAdapter {
  const { prefix } = spec;
  const names = headNames(spec);
  const layerRe = /^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$/;

  function role(name: string, _config: HfConfig): TensorRole {
    if (name === `${names.out}.weight` || name === `${names.out}.bias`) return TASK_HEAD;
    if (names.hidden && (name === `${names.hidden}.weight` || name === `${names.hidden}.bias`))
      return TASK_HEAD;
    const local = stripPrefix(name, prefix);
    if (local.startsWith('embeddings.') || local.startsWith('embeddings_project.')) return UNIVERSAL;
    if (local === 'pooler.dense.weight' || local === 'pooler.dense.bias') return UNIVERSAL;
    const m = layerRe.exec(local);
    const slot = m && BERT_LAYER_SLOTS.find(([n]) => n === m[2]);
    if (m && slot) return layerRole(slot[1], m[3] as 'weight' | 'bias', Number(m[1]));
    throw new FmnError(`"${name}" is not a tensor of a ${spec.modelType} model that fmn merges`);
  }

  function isTaskHead(name: string, _config: HfConfig): boolean {
    return (
      name.startsWith(`${names.out}.`) || (names.hidden !== undefined && name.startsWith(`${names.hidden}.`))
    );
  }

  function maskLayout(config: HfConfig): MaskLayout {
    const c = readConfig(spec, config);
    return { layers: c.layers, heads: c.heads, headSize: c.headSize, intermediate: c.intermediate };
  }

  /** What a checkpoint must hold, from its config.json and the header's names (nothing read). */
  function plan(checkpoint: Checkpoint) {
    const file = configFile(checkpoint);
    const config = checkpoint.config;
    const c = readConfig(spec, config, file);
    const p = detectPrefix(checkpoint, prefix);
    const arch = configArchitecture(config) ?? '';
    const withHead =
      arch === `${spec.className}ForSequenceClassification` ||
      checkpoint.has(`${names.out}.weight`) ||
      checkpoint.has(`${names.out}.bias`);
    const E = c.embeddingSize;
    const required: TensorSpec[] = [
      { name: `${p}embeddings.word_embeddings.weight`, shape: [c.vocab, E] },
      { name: `${p}embeddings.position_embeddings.weight`, shape: [c.maxPositions, E] },
      { name: `${p}embeddings.token_type_embeddings.weight`, shape: [c.typeVocab, E] },
      ...normSpecs(`${p}embeddings.LayerNorm`, E),
    ];
    const project = spec.embeddingSizeKey && E !== c.hidden;
    if (project) required.push(...linearSpecs(`${p}embeddings_project`, c.hidden, E));
    for (let l = 0; l < c.layers; l++) {
      for (const [n, slot, kind] of BERT_LAYER_SLOTS) {
        const full = `${p}encoder.layer.${l}.${n}`;
        if (kind === 'norm') required.push(...normSpecs(full, c.hidden));
        else {
          const out = slot === 'intermediate' ? c.intermediate : c.hidden;
          const inp = slot === 'output' ? c.intermediate : c.hidden;
          required.push(...linearSpecs(full, out, inp));
        }
      }
    }
    const pooler = linearSpecs(`${p}pooler.dense`, c.hidden, c.hidden);
    const optional: TensorSpec[] = [];
    let numLabels = 0;
    if (withHead) {
      numLabels = configNumLabels(config, file);
      if (checkpoint.has(`${names.out}.weight`)) {
        const info = checkpoint.info(`${names.out}.weight`);
        if (info.shape.length === 2 && info.shape[0] !== numLabels) {
          throw new FmnError(
            `config.json gives ${numLabels} label${numLabels === 1 ? '' : 's'} (num_labels / id2label) but the head's "${names.out}.weight" in ${info.file} has ${info.shape[0]} rows`,
            file,
          );
        }
      }
      if (spec.head.kind === 'bert') required.push(...pooler);
      if (names.hidden) required.push(...linearSpecs(names.hidden, c.hidden, c.hidden));
      required.push(...linearSpecs(names.out, numLabels, c.hidden));
    } else if (spec.basePooler) {
      optional.push(...pooler);
    }
    const what = `a ${arch || spec.className} model (${spec.modelType}${withHead ? ', sequence classification' : ', no head'})`;
    const options: ReadTensorsOptions = { optional, ignore: isBuffer, what };
    return { c, p, withHead, numLabels, E, project, pooler, required, options };
  }

  function checkHeader(checkpoint: Checkpoint): void {
    const { required, options } = plan(checkpoint);
    checkTensors(checkpoint, required, options);
  }

  async function load(checkpoint: Checkpoint, loadOptions: LoadOptions = {}): Promise<EncoderModel> {
    const { c, p, withHead, numLabels, E, project, pooler, required, options } = plan(checkpoint);
    const params = await readTensors(checkpoint, required, { ...options, onWarning: loadOptions.onWarning });

    const layers: EncoderLayer[] = [];
    for (let l = 0; l < c.layers; l++) {
      const q = `${p}encoder.layer.${l}`;
      layers.push({
        query: takeLinear(params, `${q}.attention.self.query`),
        key: takeLinear(params, `${q}.attention.self.key`),
        value: takeLinear(params, `${q}.attention.self.value`),
        attentionOutput: takeLinear(params, `${q}.attention.output.dense`),
        attentionNorm: takeNorm(params, `${q}.attention.output.LayerNorm`, c.eps),
        intermediate: takeLinear(params, `${q}.intermediate.dense`),
        output: takeLinear(params, `${q}.output.dense`),
        outputNorm: takeNorm(params, `${q}.output.LayerNorm`, c.eps),
      });
    }
    let head: EncoderModel['head'];
    let extras: Param[] | undefined;
    if (withHead) {
      const steps: HeadStep[] =
        spec.head.kind === 'bert'
          ? [
              { linear: takeLinear(params, `${p}pooler.dense`), activation: 'tanh' },
              { linear: takeLinear(params, names.out), activation: 'identity' },
            ]
          : [
              { linear: takeLinear(params, names.hidden!), activation: spec.head.activation },
              { linear: takeLinear(params, names.out), activation: 'identity' },
            ];
      head = { kind: 'classification', numLabels, steps };
    } else if (params.has(`${p}pooler.dense.weight`) || params.has(`${p}pooler.dense.bias`)) {
      extras = pooler.filter((s) => params.has(s.name)).map((s) => params.get(s.name)!);
    }
    return {
      modelType: spec.modelType,
      dims: {
        vocabSize: c.vocab,
        hidden: c.hidden,
        embeddingSize: E,
        numLayers: c.layers,
        numHeads: c.heads,
        headSize: c.headSize,
        intermediate: c.intermediate,
        maxPositions: c.maxPositions,
        typeVocabSize: c.typeVocab,
        padTokenId: c.padTokenId,
      },
      activation: c.activation,
      embeddings: {
        word: params.get(`${p}embeddings.word_embeddings.weight`)!,
        position: params.get(`${p}embeddings.position_embeddings.weight`)!,
        tokenType: params.get(`${p}embeddings.token_type_embeddings.weight`)!,
        norm: takeNorm(params, `${p}embeddings.LayerNorm`, c.eps),
        project: project ? takeLinear(params, `${p}embeddings_project`) : undefined,
        positionIds: spec.paddingOffsetPositions
          ? { kind: 'padding-offset', padTokenId: c.padTokenId }
          : { kind: 'absolute' },
      },
      layers,
      head,
      ...(extras ? { extras } : {}),
    };
  }

  return {
    modelType: spec.modelType,
    detect: (config) =>
      config.model_type === spec.modelType ||
      (config.model_type === undefined && (configArchitecture(config) ?? '').startsWith(spec.className)),
    maskLayout,
    load,
    checkHeader,
    toTensors,
    role,
    isTaskHead,
    prefix: spec.prefix,
    tokenizer: spec.tokenizer,
    ...(spec.fixture ? { fixture: spec.fixture } : {}),
  };
}

/** The model's tensors under their HuggingFace names: the encoder, its head, then extras (a bare model's pooler). */
export function toTensors(model: EncoderModel): Param[] {
  const out = encoderParams(model);
  const seen = new Set(out);
  for (const p of model.extras ?? []) if (!seen.has(p)) out.push(p);
  return out;
}
