/**
 * Texts given to `fmn predict` directly rather than in a data file: `--text` values (with
 * `--text-pair` for the second sentence of a pair task) or plain lines on stdin (`--data -`). In
 * both a tab separates the two sentences of a pair, as in a GLUE TSV line.
 */
import type { TextDataset, TextExample } from '@fmn/data';
import { FmnError } from '@fmn/core';

function splitPair(text: string): { a: string; b?: string } {
  const tab = text.indexOf('\t');
  return tab < 0 ? { a: text } : { a: text.slice(0, tab), b: text.slice(tab + 1) };
}

function dataset(file: string, examples: TextExample[]): TextDataset {
  if (examples.length === 0) throw new FmnError('no texts to predict', file);
  const pairs = examples.filter((e) => e.b !== undefined).length;
  if (pairs !== 0 && pairs !== examples.length) {
    const single = examples.find((e) => e.b === undefined)!;
    throw new FmnError(
      `${pairs} of ${examples.length} texts are sentence pairs (a tab or --text-pair) but ${file === '(stdin)' ? `line ${single.line}` : `text ${single.line}`} is a single sentence; give all as pairs or none`,
      file,
    );
  }
  return {
    kind: 'text',
    file,
    files: [],
    format: 'tsv',
    unit: 'line',
    skipped: 0,
    columns: pairs ? { a: 'text', b: 'text_pair' } : { a: 'text' },
    examples,
  };
}

/** `--text A [--text B ...]`, each with its `--text-pair` (by position) or a tab inside. */
export function textsDataset(texts: readonly string[], pairs: readonly string[] = []): TextDataset {
  if (pairs.length > 0 && pairs.length !== texts.length) {
    throw new FmnError(
      `--text-pair: given ${pairs.length} times for ${texts.length} --text; give one --text-pair per --text`,
    );
  }
  return dataset(
    '(--text)',
    texts.map((t, i) => {
      if (pairs.length > 0) {
        if (t.includes('\t'))
          throw new FmnError(`--text ${i + 1} has a tab and a --text-pair; give one of them`);
        return { a: t, b: pairs[i], file: '(--text)', line: i + 1 };
      }
      return { ...splitPair(t), file: '(--text)', line: i + 1 };
    }),
  );
}

/** Plain text, one example per non-empty line; a tab separates the two sentences of a pair. */
export function linesDataset(text: string, file = '(stdin)'): TextDataset {
  const examples: TextExample[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    examples.push({ ...splitPair(lines[i]), file, line: i + 1 });
  }
  return dataset(file, examples);
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new FmnError('--data -: stdin is a terminal; pipe texts in (one per line) or use --text');
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
