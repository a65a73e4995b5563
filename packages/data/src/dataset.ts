/**
 * Local datasets: a data file (TSV, CSV, JSONL, Parquet) or a GLUE-style task folder, read into
 * text examples `{ a, b?, label }` or pre-tokenized examples `{ inputIds, ... }`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FmnError } from '@fmn/core';
import { findTaskPreset, type TaskPreset } from './presets.js';
import { formatOf, readTable, type Table, type TableFormat, type TableRow } from './tables.js';

/** A label as found in the file: a string (class name or number text) or a number. */
export type RawLabel = string | number;

export interface TextExample {
  readonly a: string;
  readonly b?: string;
  readonly label?: RawLabel;
  /** the example's id, from an "id", "idx" or "index" column when the file has one */
  readonly id?: string | number;
  /** the file the example came from */
  readonly file: string;
  /** 1-based line (or Parquet row) in that file */
  readonly line: number;
}

export interface TokenizedExample {
  readonly inputIds: readonly number[];
  readonly attentionMask?: readonly number[];
  readonly tokenTypeIds?: readonly number[];
  readonly label?: RawLabel;
  /** the example's id, from an "id", "idx" or "index" column when the file has one */
  readonly id?: string | number;
  readonly file: string;
  readonly line: number;
}

interface DatasetBase {
  /** the file read (the first one when a split is sharded over several Parquet files) */
  readonly file: string;
  readonly files: readonly string[];
  readonly format: TableFormat;
  /** what an example's `line` counts */
  readonly unit: 'line' | 'row';
  readonly task?: TaskPreset;
  /** the label column used, or undefined when the dataset has no labels */
  readonly labelColumn?: string;
  /** malformed lines skipped (`skipMalformed`) */
  readonly skipped: number;
}

export interface TextDataset extends DatasetBase {
  readonly kind: 'text';
  readonly columns: { readonly a: string; readonly b?: string };
  readonly examples: readonly TextExample[];
}

export interface TokenizedDataset extends DatasetBase {
  readonly kind: 'tokenized';
  readonly examples: readonly TokenizedExample[];
}

export type Dataset = TextDataset | TokenizedDataset;

export interface LoadDatasetOptions {
  /** GLUE task preset ("sst2", "SST-2", "mnli", ...). Default: inferred from a folder named after a GLUE task. */
  task?: string;
  /**
   * Column names, overriding the preset. `b: null` = single-sentence input even if the preset is
   * a pair task; `label: null` = no labels (e.g. a test split).
   */
  columns?: { a?: string; b?: string | null; label?: string | null };
  /**
   * For a folder: which split to load. Default "dev" (also found as "validation"; for MNLI
   * "dev_matched" / "validation_matched"). Any other name is looked up as given, e.g. "train",
   * "dev_mismatched".
   */
  split?: string;
  /** TSV/CSV: whether the first row is a header (default: yes, except GLUE CoLA's header-less TSVs) */
  header?: boolean;
  /** skip malformed lines instead of failing (reported in `skipped`) */
  skipMalformed?: boolean;
}

const FORMAT_ORDER: readonly TableFormat[] = ['tsv', 'csv', 'jsonl', 'parquet'];

function splitCandidates(split: string, task: TaskPreset | undefined): string[] {
  const s = split.toLowerCase();
  const mnli = task?.name === 'mnli';
  if (s === 'dev' || s === 'validation' || s === 'val') {
    return mnli
      ? ['dev_matched', 'validation_matched', 'dev', 'validation']
      : ['dev', 'validation', 'dev_matched', 'validation_matched'];
  }
  if (s === 'dev_matched' || s === 'validation_matched') return ['dev_matched', 'validation_matched'];
  if (s === 'dev_mismatched' || s === 'validation_mismatched')
    return ['dev_mismatched', 'validation_mismatched'];
  return [s];
}

/** the split name of a data file: extension and a "-00000-of-00003" shard suffix removed */
function splitNameOf(name: string): string {
  return name
    .replace(/\.[^.]+$/, '')
    .replace(/-\d+-of-\d+$/, '')
    .toLowerCase();
}

async function filesForSplit(dir: string, split: string, task: TaskPreset | undefined): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  const data = names.filter((n) => {
    try {
      formatOf(n);
      return true;
    } catch {
      return false;
    }
  });
  for (const want of splitCandidates(split, task)) {
    const matching = data.filter((n) => splitNameOf(n) === want);
    for (const fmt of FORMAT_ORDER) {
      const files = matching.filter((n) => formatOf(n) === fmt);
      if (files.length > 0) return files.map((n) => join(dir, n));
    }
  }
  throw new FmnError(
    `no "${split}" split in this folder (looked for ${splitCandidates(split, task).join(', ')} with extension .tsv, .csv, .jsonl or .parquet; data files present: ${data.join(', ') || 'none'})`,
    dir,
  );
}

function pickColumn(
  table: Table,
  explicit: string | null | undefined,
  candidates: readonly string[] | undefined,
  role: string,
  required: boolean,
): string | undefined {
  if (explicit === null) return undefined;
  const list = explicit !== undefined ? [explicit] : (candidates ?? []);
  for (const c of list) if (table.columns.includes(c)) return c;
  if (!required && explicit === undefined) return undefined;
  const wanted = list.map((c) => `"${c}"`).join(' or ');
  throw new FmnError(
    `missing ${role} column ${wanted}; available columns: ${table.columns.map((c) => `"${c}"`).join(', ') || '(none)'}`,
    table.file,
  );
}

function where(table: Table, row: TableRow): string {
  return `${table.unit} ${row.line}`;
}

function textValue(table: Table, row: TableRow, column: string): string {
  const v = row.values[column];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw new FmnError(
    `${where(table, row)}: malformed line, column "${column}" is ${v === undefined ? 'missing' : `not text (${JSON.stringify(v)})`}`,
    table.file,
  );
}

function labelValue(table: Table, row: TableRow, column: string): RawLabel {
  const v = row.values[column];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  throw new FmnError(
    `${where(table, row)}: malformed line, label column "${column}" is ${v === undefined || v === '' ? 'empty' : `not a label (${JSON.stringify(v)})`}`,
    table.file,
  );
}

/** Ids and masks are int32 in every runtime fmn feeds. */
const MAX_ID = 2 ** 31 - 1;

function intArray(table: Table, row: TableRow, column: string, required: boolean): number[] | undefined {
  const v = row.values[column];
  if (v === undefined || v === null) {
    if (!required) return undefined;
  } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const raw = Array.from(v as ArrayLike<unknown>);
    // numbers (or int64 bigints from Parquet) only: "5" is not an id, and 2^32 + 134 is not 134
    const ok = raw.every(
      (x) =>
        (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_ID) ||
        (typeof x === 'bigint' && x >= 0n && x <= BigInt(MAX_ID)),
    );
    if (ok && (raw.length > 0 || column !== 'input_ids')) return raw.map((x) => Number(x));
    if (ok) throw new FmnError(`${where(table, row)}: malformed line, "input_ids" is empty`, table.file);
  }
  throw new FmnError(
    `${where(table, row)}: malformed line, "${column}" must be an array of integers 0..${MAX_ID}`,
    table.file,
  );
}

const DEFAULT_A = ['sentence', 'text', 'sentence1'];
const DEFAULT_B = ['sentence2'];
const DEFAULT_LABEL = ['label'];
const ID_COLUMNS = ['id', 'idx', 'index'];

/** the id of a row: a number or text as found, undefined when the cell is empty */
function idValue(row: TableRow, column: string | undefined): string | number | undefined {
  if (column === undefined) return undefined;
  const v = row.values[column];
  if (typeof v === 'number' || (typeof v === 'string' && v !== '')) return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function toDataset(tables: Table[], task: TaskPreset | undefined, options: LoadDatasetOptions): Dataset {
  const first = tables[0]!;
  const cols = options.columns ?? {};
  const skipped = tables.reduce((s, t) => s + t.skipped, 0);
  const base = {
    file: first.file,
    files: tables.map((t) => t.file),
    format: first.format,
    unit: first.unit,
    task,
    skipped,
  };
  const total = tables.reduce((s, t) => s + t.rows.length, 0);
  if (total === 0) {
    throw new FmnError(
      `empty dataset: no examples${skipped > 0 ? ` (${skipped} malformed lines skipped)` : ''}`,
      first.file,
    );
  }

  const labelCandidates = task?.label ?? DEFAULT_LABEL;
  const idColumn = ID_COLUMNS.find((c) => first.columns.includes(c));
  if (cols.a === undefined && first.columns.includes('input_ids')) {
    const labelColumn = pickColumn(first, cols.label, labelCandidates, 'label', false);
    const examples: TokenizedExample[] = [];
    for (const t of tables) {
      for (const row of t.rows) {
        const inputIds = intArray(t, row, 'input_ids', true)!;
        const attentionMask = intArray(t, row, 'attention_mask', false);
        const tokenTypeIds = intArray(t, row, 'token_type_ids', false);
        for (const [name, arr] of [
          ['attention_mask', attentionMask],
          ['token_type_ids', tokenTypeIds],
        ] as const) {
          if (arr && arr.length !== inputIds.length) {
            throw new FmnError(
              `${where(t, row)}: malformed line, "${name}" has ${arr.length} entries but "input_ids" has ${inputIds.length}`,
              t.file,
            );
          }
        }
        examples.push({
          inputIds,
          attentionMask,
          tokenTypeIds,
          label: labelColumn !== undefined ? labelValue(t, row, labelColumn) : undefined,
          ...(idColumn !== undefined && { id: idValue(row, idColumn) }),
          file: t.file,
          line: row.line,
        });
      }
    }
    return { ...base, kind: 'tokenized', labelColumn, examples };
  }

  const a = pickColumn(first, cols.a, task?.a ?? DEFAULT_A, 'text', true)!;
  const b = pickColumn(first, cols.b, task ? task.b : DEFAULT_B, 'second text', task?.b !== undefined);
  const labelColumn = pickColumn(first, cols.label, labelCandidates, 'label', true);
  const examples: TextExample[] = [];
  for (const t of tables) {
    for (const row of t.rows) {
      examples.push({
        a: textValue(t, row, a),
        b: b !== undefined ? textValue(t, row, b) : undefined,
        label: labelColumn !== undefined ? labelValue(t, row, labelColumn) : undefined,
        ...(idColumn !== undefined && { id: idValue(row, idColumn) }),
        file: t.file,
        line: row.line,
      });
    }
  }
  return { ...base, kind: 'text', columns: { a, b }, labelColumn, examples };
}

/**
 * Loads a dataset from a data file or a GLUE-style task folder.
 *
 * - `path` a file: its extension picks the reader (.tsv GLUE-style without quoting, .csv RFC
 *   4180, .jsonl/.ndjson, .parquet).
 * - `path` a folder: the split's file is looked up by name (`dev.tsv`, `validation.parquet`,
 *   `validation-00000-of-00001.parquet`, MNLI's `dev_matched.tsv`, ...; see `split`); shards of
 *   one split are concatenated in name order.
 * - The task preset comes from `task`, else from the folder's name when it names a GLUE task
 *   (`SST-2`, `MNLI`, `sts-b`, ...). Without a preset, the text column is the first of
 *   "sentence", "text", "sentence1"; the second text "sentence2" if present; the label "label".
 * - A file with an `input_ids` column (and no explicit `columns.a`) is pre-tokenized: optional
 *   `attention_mask`, `token_type_ids`, and the label column.
 *
 * Examples keep file order. Labels are kept raw here; `resolveLabels` maps them for a model.
 */
export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FmnError(code === 'ENOENT' ? 'data file not found' : `cannot read data path (${code})`, path);
  }
  let task: TaskPreset | undefined;
  if (options.task !== undefined) {
    task = findTaskPreset(options.task);
    if (!task) {
      throw new FmnError(
        `unknown task "${options.task}"; GLUE tasks: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli (or give columns)`,
      );
    }
  } else {
    task = findTaskPreset(basename(isDir ? path : dirname(path)));
  }
  const files = isDir ? await filesForSplit(path, options.split ?? 'dev', task) : [path];
  if (!isDir) formatOf(path);
  const tables: Table[] = [];
  for (const f of files) {
    tables.push(
      await readTable(f, {
        header: options.header,
        headerlessColumns: task?.headerlessTsvColumns,
        skipMalformed: options.skipMalformed,
      }),
    );
  }
  return toDataset(tables, task, options);
}
