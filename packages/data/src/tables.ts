/**
 * Readers turning a data file into named columns and rows, each row remembering where it came
 * from (1-based line number for text formats, 1-based row number for Parquet).
 */
import { readFile } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { FmnError, regularFileSize } from '@fmn/core';
import { MAX_DATA_FILE_BYTES, MAX_EXAMPLES, MAX_LINE_CHARS } from './limits.js';

export type TableFormat = 'tsv' | 'csv' | 'jsonl' | 'parquet';

export interface TableRow {
  /** 1-based line (TSV/CSV: the line the record starts on; JSONL: its line) or Parquet row number */
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface Table {
  readonly file: string;
  readonly format: TableFormat;
  /** column names, in file order */
  readonly columns: readonly string[];
  readonly rows: TableRow[];
  /** malformed lines skipped (only with `skipMalformed`) */
  readonly skipped: number;
  /** what a row's `line` counts: "line" or "row" */
  readonly unit: 'line' | 'row';
}

export interface ReadTableOptions {
  /**
   * TSV/CSV: whether the first row is a header. `undefined` = yes, except that a TSV whose first
   * row matches `headerlessColumns` in width and contains none of its names is read without one
   * (GLUE's CoLA train/dev files).
   */
  header?: boolean;
  /** TSV/CSV: column names to use when there is no header (default "0", "1", ...) */
  headerlessColumns?: readonly string[];
  /** TSV/CSV/JSONL: skip malformed lines instead of failing (they are counted in `skipped`) */
  skipMalformed?: boolean;
  /** most rows (examples) the file may have; default and upper bound `MAX_EXAMPLES` */
  maxExamples?: number;
}

const EXTENSIONS: Record<string, TableFormat> = {
  '.tsv': 'tsv',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
};

/** The table format for a file name, or an FmnError naming the supported extensions. */
export function formatOf(file: string): TableFormat {
  const m = /\.[^./\\]+$/.exec(file);
  const ext = m ? m[0].toLowerCase() : '';
  const f = EXTENSIONS[ext];
  if (!f) {
    throw new FmnError(
      `unsupported data file extension "${ext || '(none)'}"; expected one of ${Object.keys(EXTENSIONS).join(', ')}`,
      file,
    );
  }
  return f;
}

/** A data file must be a regular file of at most MAX_DATA_FILE_BYTES (a FIFO would block the read). */
async function checkDataFile(file: string): Promise<void> {
  const size = await regularFileSize(file, MAX_DATA_FILE_BYTES);
  if (size === undefined) throw new FmnError('data file not found', file);
}

function lineTooLong(file: string, line: number): FmnError {
  return new FmnError(`line ${line}: longer than the ${MAX_LINE_CHARS}-character limit for one line`, file);
}

function tooManyRows(file: string, max: number): FmnError {
  return new FmnError(`more than ${max} examples, the limit for one dataset`, file);
}

async function readText(file: string): Promise<string> {
  let text: string;
  await checkDataFile(file);
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FmnError(code === 'ENOENT' ? 'data file not found' : `cannot read data file (${code})`, file);
  }
  // GLUE's processors read with utf-8-sig: drop a byte order mark
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads a TSV, CSV, JSONL or Parquet file (chosen by extension). */
export async function readTable(file: string, options: ReadTableOptions = {}): Promise<Table> {
  const format = formatOf(file);
  const max = Math.min(options.maxExamples ?? MAX_EXAMPLES, MAX_EXAMPLES);
  if (format === 'parquet') return readParquet(file, max);
  const text = await readText(file);
  if (format === 'jsonl') return parseJsonl(file, text, options, max);
  // one record more than the examples: the header
  const records = format === 'tsv' ? splitTsv(text, file, max + 1) : splitCsv(file, text, max + 1);
  const table = fromRecords(file, format, records, options);
  if (table.rows.length > max) throw tooManyRows(file, max);
  return table;
}

interface RawRecord {
  line: number;
  fields: string[];
}

/**
 * GLUE TSV: one record per line, fields split on tabs, NO quoting (GLUE's own processors read
 * with `csv.reader(delimiter="\t", quotechar=None)`): quote characters are ordinary text.
 * `\r\n` line ends are accepted; blank lines are ignored.
 */
export function splitTsv(text: string, file = '(text)', maxRecords = MAX_EXAMPLES + 1): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let s = lines[i]!;
    if (s.length > MAX_LINE_CHARS + 1) throw lineTooLong(file, i + 1);
    if (s.endsWith('\r')) s = s.slice(0, -1);
    if (s === '') continue;
    out.push({ line: i + 1, fields: s.split('\t') });
    if (out.length > maxRecords) throw tooManyRows(file, maxRecords - 1);
  }
  return out;
}

/**
 * CSV per RFC 4180: comma-separated; a field may be enclosed in double quotes, inside which
 * commas, line breaks and doubled quotes (`""` = one `"`) are literal. A quote inside an
 * unquoted field, text after a closing quote, or an unterminated quote is a malformed line.
 * Blank lines are ignored.
 */
export function splitCsv(file: string, text: string, maxRecords = MAX_EXAMPLES + 1): RawRecord[] {
  const out: RawRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const startAt = i;
    const fields: string[] = [];
    // one record
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new FmnError(`line ${start}: unterminated quoted field`, file);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            if (c === '\n') line++;
            field += c;
            i++;
            if (i - startAt > MAX_LINE_CHARS) throw lineTooLong(file, start);
          }
        }
        const c = text[i];
        if (c !== undefined && c !== ',' && c !== '\n' && !(c === '\r' && text[i + 1] === '\n')) {
          throw new FmnError(`line ${line}: unexpected text after a closing quote`, file);
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw new FmnError(`line ${line}: quote inside an unquoted field`, file);
          field += text[i];
          i++;
          if (i - startAt > MAX_LINE_CHARS) throw lineTooLong(file, start);
        }
      }
      fields.push(field);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // end of record
      i += text[i] === '\r' ? 2 : 1;
      line++;
      break;
    }
    if (!(fields.length === 1 && fields[0] === '')) out.push({ line: start, fields });
    if (out.length > maxRecords) throw tooManyRows(file, maxRecords - 1);
  }
  return out;
}

function fromRecords(
  file: string,
  format: 'tsv' | 'csv',
  records: RawRecord[],
  options: ReadTableOptions,
): Table {
  let columns: string[];
  let body: RawRecord[];
  const first = records[0];
  if (!first) return { file, format, columns: [], rows: [], skipped: 0, unit: 'line' };
  let header = options.header;
  if (header === undefined) {
    const names = options.headerlessColumns;
    header = !(
      format === 'tsv' &&
      names !== undefined &&
      first.fields.length === names.length &&
      !first.fields.some((f) => names.includes(f))
    );
  }
  if (header) {
    columns = first.fields;
    body = records.slice(1);
  } else {
    columns = options.headerlessColumns
      ? [...options.headerlessColumns]
      : first.fields.map((_, k) => String(k));
    body = records;
  }
  const rows: TableRow[] = [];
  let skipped = 0;
  const sep = format === 'tsv' ? 'tab-separated' : 'comma-separated';
  for (const r of body) {
    if (r.fields.length !== columns.length) {
      if (options.skipMalformed) {
        skipped++;
        continue;
      }
      throw new FmnError(
        `line ${r.line}: malformed line, expected ${columns.length} ${sep} fields, found ${r.fields.length}`,
        file,
      );
    }
    const values: Record<string, string> = {};
    for (let k = 0; k < columns.length; k++) values[columns[k]!] = r.fields[k]!;
    rows.push({ line: r.line, values });
  }
  return { file, format, columns, rows, skipped, unit: 'line' };
}

/** JSONL: one JSON object per line; blank lines ignored. Columns are the first object's keys. */
function parseJsonl(file: string, text: string, options: ReadTableOptions, max: number): Table {
  const rows: TableRow[] = [];
  let columns: string[] | undefined;
  let skipped = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.length > MAX_LINE_CHARS + 1) throw lineTooLong(file, i + 1);
    const s = lines[i]!.trim();
    if (s === '') continue;
    if (rows.length >= max) throw tooManyRows(file, max);
    let v: unknown;
    let problem: string | undefined;
    try {
      v = JSON.parse(s);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) problem = 'expected a JSON object';
    } catch (e) {
      problem = `invalid JSON (${(e as Error).message})`;
    }
    if (problem) {
      if (options.skipMalformed) {
        skipped++;
        continue;
      }
      throw new FmnError(`line ${i + 1}: malformed line, ${problem}`, file);
    }
    const values = v as Record<string, unknown>;
    columns ??= Object.keys(values);
    rows.push({ line: i + 1, values });
  }
  return { file, format: 'jsonl', columns: columns ?? [], rows, skipped, unit: 'line' };
}

/** Parquet through hyparquet (all standard codecs hyparquet decodes itself, snappy included). */
async function readParquet(file: string, max: number): Promise<Table> {
  let buffer;
  await checkDataFile(file);
  try {
    buffer = await asyncBufferFromFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FmnError(code === 'ENOENT' ? 'data file not found' : `cannot read data file (${code})`, file);
  }
  try {
    const metadata = await parquetMetadataAsync(buffer);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    if (Number(metadata.num_rows) > max) throw tooManyRows(file, max);
    const objects = await parquetReadObjects({ file: buffer, metadata });
    const rows = objects.map((values, k) => ({ line: k + 1, values: values as Record<string, unknown> }));
    return { file, format: 'parquet', columns, rows, skipped: 0, unit: 'row' };
  } catch (e) {
    if (e instanceof FmnError) throw e;
    throw new FmnError(`cannot read Parquet file: ${(e as Error).message}`, file, { cause: e });
  }
}
