import { describe, expect, it } from 'vitest';
import '@fmn/arch-bert';
import { encoderParams, type EncoderModel } from '@fmn/core';
import { DEFAULT_SHAPE, initMlmModel, withClassifier } from './models.js';
import { taskVectorRelativeSize } from './task-vector.js';

const shape = { ...DEFAULT_SHAPE, hidden: 8, heads: 2, intermediate: 16, layers: 1, maxLength: 8 };

/** A bare base (no head) and a classifier started from it whose encoder weights can be edited. */
function pair(): { base: EncoderModel; task: EncoderModel } {
  const mlm = initMlmModel('bert', shape, 20, 'tv');
  const base = { ...mlm, head: undefined };
  return { base, task: withClassifier(base, 'bert', 2, 'tv/head') };
}

describe('task-vector relative size', () => {
  it('is 0 for an untouched fine-tuning start, whatever its new head', () => {
    const { base, task } = pair();
    expect(taskVectorRelativeSize(base, task)).toBe(0);
  });

  it('is ||delta|| / ||base|| over the encoder parameters (hand-computed with a shift of one tensor)', () => {
    const { base, task: start } = pair();
    // the word embeddings (a copy) moved by +0.5 everywhere
    const word = { ...start.embeddings.word, data: start.embeddings.word.data.map((v) => v + 0.5) };
    const task = { ...start, embeddings: { ...start.embeddings, word } };
    let norm = 0;
    for (const p of encoderParams(base)) for (const v of p.data) norm += v * v;
    const expected = Math.sqrt((word.data.length * 0.25) / norm);
    expect(taskVectorRelativeSize(base, task)).toBeCloseTo(expected, 6);
  });

  it('ignores the classification head', () => {
    const { base, task } = pair();
    const h = task.head;
    if (h?.kind !== 'classification') throw new Error('expected a classification head');
    for (const s of h.steps) s.linear.weight.data = s.linear.weight.data.map((v) => v + 3);
    expect(h.steps.length).toBeGreaterThan(0);
    expect(taskVectorRelativeSize(base, task)).toBe(0);
  });
});
