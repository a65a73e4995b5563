/**
 * The relative size of a task vector: ||theta_task - theta_base||_2 / ||theta_base||_2 over the
 * encoder parameters the fine-tuned model shares with its base (embeddings, embedding LayerNorm
 * and projection, every layer's attention, FFN and LayerNorms), matched by their place in
 * core's `encoderParams` order (a base checkpoint and a fine-tuned one name them with different
 * prefixes). The
 * task head (and BERT's pooler, which becomes the head's first step) is left out: the base has no
 * trained counterpart for it.
 */
import { FmnError, encoderParams, type EncoderModel, type Param } from '@fmn/core';

/** The shared encoder parameters (the bare encoder's parameters, no head). */
const encoderOnly = (model: EncoderModel): Param[] => encoderParams({ ...model, head: undefined });

export function taskVectorRelativeSize(base: EncoderModel, task: EncoderModel): number {
  const b = encoderOnly(base);
  const t = encoderOnly(task);
  let diff = 0;
  let norm = 0;
  if (t.length !== b.length)
    throw new FmnError(`the fine-tuned model has ${t.length} encoder parameters, its base ${b.length}`);
  for (const [k, bp] of b.entries()) {
    const bv = bp.data;
    const tv = t[k].data;
    if (tv.length !== bv.length)
      throw new FmnError(`${bp.name}: ${tv.length} values in the fine-tuned model, ${bv.length} in its base`);
    for (let i = 0; i < bv.length; i++) {
      const d = tv[i] - bv[i];
      diff += d * d;
      norm += bv[i] * bv[i];
    }
  }
  if (!(norm > 0)) throw new FmnError('the base model has no nonzero encoder parameter');
  return Math.sqrt(diff / norm);
}
