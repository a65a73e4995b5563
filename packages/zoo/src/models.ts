/** The shipped checkpoints: models/<arch>/base and models/<arch>/<task>, per architecture. */
import { zooPath } from './paths.js';

/** The architectures the zoo ships models of (one folder each under models/). */
export const ZOO_ARCHS = ['bert', 'roberta', 'distilbert', 'electra'] as const;
export type ZooArch = (typeof ZOO_ARCHS)[number];

/** True when `name` is one of the zoo's architectures. */
export function isZooArch(name: string): name is ZooArch {
  return (ZOO_ARCHS as readonly string[]).includes(name);
}

/**
 * Absolute path of a shipped checkpoint folder: `base` (the masked-LM pre-trained encoder) or a
 * task name (the classifier fine-tuned from it).
 */
export function zooModelPath(arch: ZooArch, model = 'base'): string {
  return zooPath('models', arch, model);
}
