/**
 * @fmn/zoo: the shipped offline testbed. A mini-GLUE built from WordNet 3.1 and AFINN-165
 * (data/), WordPiece and byte-level BPE tokenizers in HuggingFace layout (tokenizers/), and small
 * pre-trained BERT, RoBERTa, DistilBERT and ELECTRA checkpoints with one fine-tuned model per task
 * (models/). This package holds the files and where to find them; @fmn/zoo-build makes them.
 */
export { zooPath } from './paths.js';
export { zooTasks, type ZooTask, type TaskKind, type TaskMetric } from './tasks.js';
export { ZOO_ARCHS, isZooArch, zooModelPath, type ZooArch } from './models.js';
export { zooTokenizers, zooTokenizerFor, zooTokenizerKind, type ZooTokenizerKind } from './tokenizers.js';
export { readZooManifest, type ZooManifest, type ZooManifestTask, type ZooTaskSpec } from './manifest.js';
