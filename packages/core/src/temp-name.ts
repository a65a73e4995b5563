/**
 * The names of fmn's temporary files and folders, one pattern for all of them:
 *
 *     .<name>.fmn-tmp-<pid>-<8 hex>   an output being written (file or folder), renamed to <name> when complete
 *     .<name>.fmn-old-<pid>-<8 hex>   the previous <name>, moved aside while `--force` puts the new one in place
 *
 * They sit beside the output `<name>` they belong to. `<pid>` is the process that made them: one
 * whose process no longer runs is stale, and the next fmn run writing the same `<name>` cleans it
 * up (see recover-output.ts).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export type FmnTempKind = 'tmp' | 'old';

const PATTERN = /^\.(.+)\.fmn-(tmp|old)-(\d+)-([0-9a-f]{8})$/;

export interface ParsedTempName {
  /** the output's own name (its basename) */
  readonly target: string;
  readonly kind: FmnTempKind;
  readonly pid: number;
  /** the 8 hex digits that tell temps of one process apart */
  readonly tag: string;
}

/** A fresh random tag (8 hex digits). */
export function newTempTag(): string {
  return randomBytes(4).toString('hex');
}

/** The path of a temp (`tmp`) or backup (`old`) beside `target`, for this process. */
export function fmnTempPath(target: string, kind: FmnTempKind, tag: string = newTempTag()): string {
  return join(dirname(target), `.${basename(target)}.fmn-${kind}-${process.pid}-${tag}`);
}

/** The parts of an fmn temp name, or undefined for any other name. */
export function parseFmnTempName(name: string): ParsedTempName | undefined {
  const m = PATTERN.exec(name);
  if (!m) return undefined;
  return { target: m[1], kind: m[2] as FmnTempKind, pid: Number(m[3]), tag: m[4] };
}

/** `path` with a final fmn temp name replaced by the output it stands for (for messages). */
export function outputOfTempPath(path: string): string {
  const name = basename(path);
  const p = parseFmnTempName(name);
  return p ? join(dirname(path), p.target) : path;
}
