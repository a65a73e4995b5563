/**
 * What `fmn predict` prints for each example: the label named by the model's config.json
 * (`id2label`), the class probabilities and the raw logits; for a regression head (one label) the
 * score. Rows carry the example's `id` when the data has one.
 */
import type { HfConfig } from '@fmn/core';

export interface ClassPrediction {
  id?: string | number;
  label: string;
  probabilities: number[];
  logits: number[];
}

export interface ScorePrediction {
  id?: string | number;
  score: number;
}

export type Prediction = ClassPrediction | ScorePrediction;

/**
 * The label names of a model, index by index: config.json's `id2label`, else `LABEL_i` (the
 * names HuggingFace gives a config without id2label).
 */
export function labelNames(config: HfConfig, numLabels: number): string[] {
  const map = config.id2label;
  return Array.from({ length: numLabels }, (_, i) => {
    const v = map && typeof map === 'object' ? (map as Record<string, unknown>)[String(i)] : undefined;
    return typeof v === 'string' && v !== '' ? v : `LABEL_${i}`;
  });
}

/** softmax of one row, computed stably (max subtracted) */
export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const e = Array.from(row, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * One prediction per example from the logits [N * numLabels]. Probabilities are the softmax of
 * the logits, or per-label sigmoids for a `multi_label_classification` config (as transformers'
 * text-classification pipeline); the label is the most probable one (the first on ties).
 */
export function predictionsFromLogits(
  logits: Float32Array,
  numLabels: number,
  config: HfConfig,
  ids?: readonly (string | number | undefined)[],
): Prediction[] {
  const n = logits.length / numLabels;
  const names = labelNames(config, numLabels);
  const multiLabel = config.problem_type === 'multi_label_classification';
  const rows: Prediction[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids?.[i];
    const row = Array.from(logits.subarray(i * numLabels, (i + 1) * numLabels));
    if (numLabels === 1) {
      rows.push(id !== undefined ? { id, score: row[0] } : { score: row[0] });
      continue;
    }
    const probabilities = multiLabel ? row.map(sigmoid) : softmax(row);
    let best = 0;
    for (let k = 1; k < numLabels; k++) if (probabilities[k] > probabilities[best]) best = k;
    const p: ClassPrediction = { label: names[best], probabilities, logits: row };
    rows.push(id !== undefined ? { id, ...p } : p);
  }
  return rows;
}

/** A table for a terminal: id (when any), the label and its probability (or the score), the text. */
export function predictionTable(
  rows: readonly Prediction[],
  texts: readonly string[],
  width = 100,
): string[] {
  const hasId = rows.some((r) => r.id !== undefined);
  const cells = rows.map((r) => {
    const id = r.id === undefined ? '' : String(r.id);
    if ('score' in r) return { id, label: r.score.toFixed(4), p: '' };
    const best = r.probabilities[labelIndex(r)];
    return { id, label: r.label, p: best.toFixed(4) };
  });
  const regression = rows.length > 0 && 'score' in rows[0];
  const idW = Math.max(2, ...cells.map((c) => c.id.length));
  const labelHead = regression ? 'score' : 'label';
  const labelW = Math.max(labelHead.length, ...cells.map((c) => c.label.length));
  const pHead = regression ? '' : 'prob';
  const pW = regression ? 0 : Math.max(pHead.length, ...cells.map((c) => c.p.length));
  const cols = (id: string, label: string, p: string, text: string) =>
    [hasId ? id.padEnd(idW) : undefined, label.padEnd(labelW), regression ? undefined : p.padStart(pW), text]
      .filter((c) => c !== undefined)
      .join('  ');
  const used = (hasId ? idW + 2 : 0) + labelW + 2 + (regression ? 0 : pW + 2);
  const room = Math.max(20, width - used);
  const clip = (t: string) => {
    const one = t.replace(/\s+/g, ' ');
    return one.length <= room ? one : `${one.slice(0, room - 1)}…`;
  };
  return [
    cols('id', labelHead, pHead, 'text').trimEnd(),
    ...cells.map((c, i) => cols(c.id, c.label, c.p, clip(texts[i] ?? '')).trimEnd()),
  ];
}

function labelIndex(r: ClassPrediction): number {
  let best = 0;
  for (let k = 1; k < r.probabilities.length; k++) if (r.probabilities[k] > r.probabilities[best]) best = k;
  return best;
}
