/**
 * Bounds on what a data file may hold, checked before the data is held in memory (docs/limits.md).
 * Each is far above any real GLUE-style split and low enough that a hostile or broken file fails
 * with a clear error instead of exhausting memory.
 */

/** Largest TSV / CSV / JSONL / Parquet file read (they are read whole into memory). */
export const MAX_DATA_FILE_BYTES = 512 * 1024 * 1024;

/** Longest line (TSV, JSONL) or record (CSV), in characters. */
export const MAX_LINE_CHARS = 1_000_000;

/** Most examples (rows) one dataset may hold. */
export const MAX_EXAMPLES = 10_000_000;
