import { FmnError, configNumLabels, type HfConfig } from '@fmn/core';
import type { Dataset, RawLabel } from './dataset.js';

export interface ResolveLabelsOptions {
  /** how to name the model in messages (e.g. its folder); default "the model" */
  model?: string;
}

function isGenericLabels(label2id: Record<string, unknown> | undefined): boolean {
  if (!label2id) return true;
  return Object.keys(label2id).every((k) => /^LABEL_\d+$/.test(k));
}

/**
 * Maps a dataset's raw labels to the model's label ids (classification) or float targets
 * (regression, num_labels == 1), one per example, in example order.
 *
 * Classification, per label:
 * - a number must be an integer in [0, num_labels);
 * - a string is looked up in the config's `label2id` (exactly, then case-insensitively); else an
 *   integer string is taken as the id; else, when `label2id` has only generic `LABEL_i` names, the
 *   task preset's label names give the id (e.g. MNLI's "entailment" -> 0).
 * A dataset whose task has a different number of labels than the model, or a label that maps
 * outside [0, num_labels), is an FmnError naming the dataset (and line) and the model.
 */
export function resolveLabels(
  dataset: Dataset,
  config: HfConfig,
  options: ResolveLabelsOptions = {},
): Float32Array {
  const model = options.model !== undefined ? `model ${options.model}` : 'the model';
  const numLabels = configNumLabels(config);
  const task = dataset.task;
  if (task && task.numLabels !== numLabels) {
    throw new FmnError(
      `dataset (task ${task.name}) has ${task.numLabels === 1 ? 'regression targets (1 label)' : `${task.numLabels} labels`} but ${model} has num_labels ${numLabels}`,
      dataset.file,
    );
  }
  if (dataset.labelColumn === undefined) {
    throw new FmnError('dataset has no label column; labels are needed here', dataset.file);
  }
  const label2id = (config.label2id ?? undefined) as Record<string, unknown> | undefined;
  const lower = new Map<string, number>();
  if (label2id) {
    for (const [k, v] of Object.entries(label2id)) if (typeof v === 'number') lower.set(k.toLowerCase(), v);
  }
  const generic = isGenericLabels(label2id);
  const out = new Float32Array(dataset.examples.length);
  dataset.examples.forEach((ex, i) => {
    const at = `${dataset.unit} ${ex.line}`;
    const raw: RawLabel | undefined = ex.label;
    if (raw === undefined) throw new FmnError(`${at}: missing label`, ex.file);
    if (numLabels === 1) {
      const v = typeof raw === 'number' ? raw : Number(raw);
      // finite also as float32 (1e39 would become Infinity), NaN and Infinity shown as such
      if (!Number.isFinite(Math.fround(v)) || (typeof raw === 'string' && raw.trim() === '')) {
        throw new FmnError(
          `${at}: regression label ${typeof raw === 'number' ? String(raw) : JSON.stringify(raw)} is not a finite number (${model} has num_labels 1)`,
          ex.file,
        );
      }
      out[i] = v;
      return;
    }
    let id: number | undefined;
    if (typeof raw === 'number') {
      id = raw;
    } else {
      const direct = label2id?.[raw];
      if (typeof direct === 'number') id = direct;
      else if (lower.has(raw.toLowerCase())) id = lower.get(raw.toLowerCase());
      else if (/^[+-]?\d+(\.0*)?$/.test(raw)) id = Number(raw);
      else if (generic && task) {
        const k = task.labelNames.findIndex((n) => n.toLowerCase() === raw.toLowerCase());
        if (k >= 0) id = k;
      }
      if (id === undefined) {
        const known = label2id && !generic ? Object.keys(label2id) : task ? [...task.labelNames] : [];
        throw new FmnError(
          `${at}: label ${JSON.stringify(raw)} is not a label of ${model} (num_labels ${numLabels}${known.length ? `; labels: ${known.join(', ')}` : ''})`,
          ex.file,
        );
      }
    }
    if (!Number.isInteger(id) || id < 0 || id >= numLabels) {
      throw new FmnError(
        `${at}: label ${typeof raw === 'number' ? String(raw) : JSON.stringify(raw)} out of range for ${model} with num_labels ${numLabels} (expected an integer 0..${numLabels - 1})`,
        ex.file,
      );
    }
    out[i] = id;
  });
  return out;
}
