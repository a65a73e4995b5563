/**
 * @fmn/zoo-build: the pipeline that makes @fmn/zoo's files. WordNet 3.1 + AFINN-165 -> the
 * mini-GLUE task TSVs and the masked-LM corpus -> WordPiece and byte-level BPE tokenizers ->
 * masked-LM pre-training and fine-tuning of each architecture on @fmn/backend-tfjs. The scripts
 * (scripts/build-data.ts, scripts/build-models.ts) write into @fmn/zoo's data/, tokenizers/ and
 * models/.
 */
export {
  buildZoo,
  mlmCorpus,
  taskTsv,
  DATA_ONLY,
  DEFAULT_ZOO_BUILD,
  type ZooBuild,
  type ZooBuildOptions,
} from './zoo.js';
export { buildCachePath, mlmCorpusPath } from './cache.js';
export {
  TASK_SPECS,
  DEFAULT_BUILD,
  type TaskSpec,
  type Example,
  type TaskSplits,
  type BuildOptions,
} from './task-spec.js';
export { buildTasks } from './tasks.js';
export { sentimentExamples } from './sentiment.js';
export { sameSenseExamples } from './same-sense.js';
export { nliExamples } from './nli.js';
export { similarityExamples } from './similarity.js';
export { makeWuPalmer } from './wu-palmer.js';
export { splitTask } from './split.js';
export { valenceSplits } from './valence.js';
export { bowBaseline, type BowExample, type BowResult } from './baseline.js';
export { readWordNet, wordnetDictDir, type WnSynset, type WnPointer, type WnPos } from './wordnet.js';
export { basicTokenize } from './basic.js';
export { trainWordPiece, encodeWordPiece, wordPieceFiles } from './wordpiece.js';
export { trainByteBpe, encodeByteBpe, byteBpeFiles, type ByteBpe } from './bpe.js';
export { buildableArchs, archsWithoutRecipe } from './archs.js';
export { MODEL_TOKENIZER, type ModelTokenizer } from './model-tokenizer.js';
export {
  DEFAULT_SHAPE,
  HEAD_ACTIVATION,
  bertPooler,
  configFor,
  initMlmModel,
  withClassifier,
  writeZooModel,
  type ModelShape,
} from './models.js';
export {
  DEFAULT_FINETUNE,
  DEFAULT_PRETRAIN,
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
  type DevScore,
  type FinetuneSettings,
  type PretrainSettings,
} from './train.js';
export {
  backendTrainers,
  tfjsTrainers,
  type HeldOutCheck,
  type MakeTrainer,
  type TrainLog,
  type ZooTrainerOptions,
} from './training-loop.js';
export { fineTuningRows, heldOutGroups, heldOutRows, type HeldOutRows } from './held-out.js';
export { taskVectorRelativeSize } from './task-vector.js';
