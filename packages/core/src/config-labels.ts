/**
 * A classifier's number of labels from config.json, checked: `num_labels` and `id2label` must be
 * sane and agree, as the head's row count must agree with them (the adapters check that).
 */
import type { HfConfig } from './checkpoint.js';
import { FmnError } from './errors.js';

/** Most labels a classification head may have (a head of more rows is a corrupt config). */
export const MAX_NUM_LABELS = 100_000;

/**
 * A config value as a message shows it: numbers as JavaScript prints them (`-Infinity` for
 * JSON's `-1e400`, which JSON.stringify would show as `null`), anything else as JSON.
 */
export function describeConfigValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  return JSON.stringify(v) ?? String(v);
}

/**
 * num_labels as HuggingFace derives it: `id2label`'s size when present, else `num_labels`, else 2.
 * Errors (naming `file`): num_labels not an integer 1..MAX_NUM_LABELS; id2label not an object,
 * empty, too large, or with keys other than "0".."n-1"; num_labels and id2label disagreeing.
 */
export function configNumLabels(config: HfConfig, file?: string): number {
  const n = config.num_labels;
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_NUM_LABELS)) {
    throw new FmnError(
      `"num_labels" in config.json must be an integer 1..${MAX_NUM_LABELS}, got ${describeConfigValue(n)}`,
      file,
    );
  }
  const map = config.id2label;
  if (map === undefined || map === null) return n ?? 2;
  if (typeof map !== 'object' || Array.isArray(map)) {
    throw new FmnError(`"id2label" in config.json must be an object, got ${describeConfigValue(map)}`, file);
  }
  const keys = Object.keys(map);
  if (keys.length === 0 || keys.length > MAX_NUM_LABELS) {
    throw new FmnError(
      `"id2label" in config.json has ${keys.length} labels (1..${MAX_NUM_LABELS} expected)`,
      file,
    );
  }
  const want = new Set(keys.map((_, i) => String(i)));
  const stray = keys.filter((k) => !want.has(k));
  if (stray.length > 0) {
    throw new FmnError(
      `"id2label" in config.json must have the keys "0".."${keys.length - 1}", found ${stray
        .slice(0, 5)
        .map((k) => JSON.stringify(k))
        .join(', ')}`,
      file,
    );
  }
  if (n !== undefined && n !== keys.length) {
    throw new FmnError(`config.json gives "num_labels" ${n} but "id2label" has ${keys.length} labels`, file);
  }
  return keys.length;
}
