/**
 * The shape of an architecture's test fixture: how `@fmn/testkit` writes a tiny random checkpoint
 * of it in exact HuggingFace layout (config.json, tensor names and shapes, tokenizer format).
 * Types only: the specs themselves live in each adapter package's `testing` subpath, written from
 * HuggingFace's modeling files independently of the adapter, so the adapter's tests check it.
 */
import type { Activation } from './encoder.js';

/** The position of a tensor inside one encoder layer (METHOD.md 5.1 table rows). */
export type FixtureLayerSlot =
  | 'query'
  | 'key'
  | 'value'
  | 'attention-output'
  | 'attention-norm'
  | 'intermediate'
  | 'output'
  | 'output-norm';

/** What a fixture tensor is in the HuggingFace model, independently of any adapter. */
export type TensorPart =
  | { readonly kind: 'embeddings' }
  | { readonly kind: 'pooler' }
  | {
      readonly kind: 'layer';
      readonly layer: number;
      readonly slot: FixtureLayerSlot;
      readonly param: 'weight' | 'bias';
    }
  | { readonly kind: 'classifier' }
  | { readonly kind: 'pretraining-head' }
  | { readonly kind: 'buffer' };

/** How a tensor's random values are drawn (weights and embeddings N(0, 0.2^2), norm weights around 1, ...). */
export type FixtureInit = 'weight' | 'bias' | 'norm-weight' | 'norm-bias' | 'embedding';

/** One tensor of a fixture layout. Encoder tensors are named without the architecture prefix. */
export interface FixtureTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: FixtureInit;
  readonly part: TensorPart;
  /** row to zero (an embedding's padding_idx, as nn.Embedding initialises it) */
  readonly zeroRow?: number;
}

/** The dimensions of one fixture checkpoint. */
export interface FixtureDims {
  /** vocabulary size (of the fixture tokenizer) */
  readonly V: number;
  readonly H: number;
  /** embedding width (ELECTRA's embedding_size; else H) */
  readonly E: number;
  readonly nH: number;
  readonly L: number;
  readonly I: number;
  /** max_position_embeddings */
  readonly P: number;
  /** type_vocab_size (0: the architecture has no token type embeddings) */
  readonly T: number;
  readonly pad: number;
}

/** Which HuggingFace model class a fixture checkpoint is. */
export type FixtureModelKind = 'sequence-classification' | 'base' | 'masked-lm' | 'pretraining';

export interface ArchitectureFixture {
  /** config.json model_type */
  readonly modelType: string;
  /** class-name stem of config.architectures ("Bert" -> BertForSequenceClassification) */
  readonly className: string;
  /** base_model_prefix with its dot, as the HF model classes save the encoder's tensors */
  readonly prefix: string;
  /** the fixture tokenizer: `wordpiece` (vocab.txt) or `byte-level-bpe` (vocab.json + merges.txt) */
  readonly tokenizer: { readonly kind: 'wordpiece' | 'byte-level-bpe'; readonly className: string };
  readonly padTokenId: number;
  /** extra position embeddings beyond the longest input (RoBERTa: pad_token_id + 1) */
  readonly positionOffset: number;
  /** type_vocab_size written (0: no token type embeddings) */
  readonly typeVocabSize: number;
  /** LayerNorm eps written to (or defaulted by) the config */
  readonly layerNormEps: number;
  /** config key of the number of attention heads */
  readonly headsKey: string;
  /** the classification head's activations (METHOD.md section 1) */
  readonly headActivations: readonly Activation[];
  /** the embedding width for `hidden` and the requested `embeddingSize` option (default: hidden) */
  embeddingSize?(hidden: number, requested: number | undefined): number;
  /** whether a checkpoint of this kind has a pooler (`requested`: the option, for base models) */
  hasPooler(kind: FixtureModelKind, requested: boolean): boolean;
  /** the encoder's tensors, without the prefix, in state_dict order */
  encoder(d: FixtureDims, pooler: boolean): FixtureTensor[];
  /** the sequence-classification head's tensors */
  head(d: FixtureDims, numLabels: number): FixtureTensor[];
  /** pre-training heads as stored in safetensors, by the kinds this architecture has */
  readonly pretraining: Partial<Record<'masked-lm' | 'pretraining', (d: FixtureDims) => FixtureTensor[]>>;
  /** config.json attributes of the architecture (model-independent keys are added by the writer) */
  config(d: FixtureDims, hiddenAct: string): Record<string, unknown>;
}
