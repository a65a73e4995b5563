/**
 * Checks that the inputs can be merged: one architecture, one shape (mask layout, tensor shapes,
 * floating point or not), one vocabulary (vocab_size and the tokenizer's vocabulary files).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FmnError,
  formatShape,
  regularFileSize,
  sha256OfFile,
  shapeEquals,
  type ArchitectureAdapter,
  type Checkpoint,
  type MaskLayout,
} from '@fmn/core';
import { FLOAT_DTYPES } from './float.js';

export interface Opened {
  readonly ckpt: Checkpoint;
  readonly adapter: ArchitectureAdapter;
  readonly layout: MaskLayout;
}

/** sha256 of a file's bytes, hex (core's). */
export const sha256File = sha256OfFile;

export function layoutText(l: MaskLayout): string {
  return `L=${l.layers}, H=${l.heads}, I=${l.intermediate}` + (l.headSize ? `, head size ${l.headSize}` : '');
}

/** The vocabulary files compared between inputs (when both have them). */
const VOCAB_FILES = ['vocab.txt', 'vocab.json', 'merges.txt'] as const;

async function tokenizerVocabKey(dir: string, file: string): Promise<string | undefined> {
  const p = join(dir, file);
  // a FIFO or a symlink to /dev/zero under this name would make the hash below never end
  if ((await regularFileSize(p)) === undefined) return undefined;
  if (file === 'tokenizer.json') {
    try {
      const t = JSON.parse(await readFile(p, 'utf8')) as { model?: { vocab?: unknown; merges?: unknown } };
      return JSON.stringify([t.model?.vocab ?? null, t.model?.merges ?? null]);
    } catch {
      throw new FmnError('invalid JSON in tokenizer.json', p);
    }
  }
  return sha256File(p);
}

/** Every input (models and base) against the first model: architecture, mask layout, vocabulary. */
export async function checkSameModels(first: Opened, all: readonly Opened[]): Promise<void> {
  for (const o of all) {
    if (o.adapter.modelType !== first.adapter.modelType || o.ckpt.modelType !== first.ckpt.modelType) {
      throw new FmnError(
        `inputs of different architectures: ${first.ckpt.dir} is ${first.adapter.modelType}, ${o.ckpt.dir} is ${o.adapter.modelType}`,
        o.ckpt.dir,
      );
    }
    const a = first.layout;
    const b = o.layout;
    if (
      a.layers !== b.layers ||
      a.heads !== b.heads ||
      a.headSize !== b.headSize ||
      a.intermediate !== b.intermediate
    ) {
      throw new FmnError(
        `inputs of different shapes: ${first.ckpt.dir} has ${layoutText(a)}, ${o.ckpt.dir} has ${layoutText(b)}`,
        o.ckpt.dir,
      );
    }
    if (o.ckpt.config.vocab_size !== first.ckpt.config.vocab_size) {
      throw new FmnError(
        `inputs of different vocabularies: vocab_size ${String(first.ckpt.config.vocab_size)} in ${first.ckpt.dir}, ${String(o.ckpt.config.vocab_size)} in ${o.ckpt.dir}`,
        o.ckpt.dir,
      );
    }
    for (const file of [...VOCAB_FILES, 'tokenizer.json']) {
      const ka = await tokenizerVocabKey(first.ckpt.dir, file);
      const kb = ka === undefined ? undefined : await tokenizerVocabKey(o.ckpt.dir, file);
      if (ka !== undefined && kb !== undefined && ka !== kb) {
        throw new FmnError(
          `inputs of different vocabularies: the tokenizer vocabulary (${file}) differs from ${join(first.ckpt.dir, file)}`,
          join(o.ckpt.dir, file),
        );
      }
    }
  }
}

/**
 * Every input has the first model's encoder tensors with the same shapes (the base only its
 * floating-point ones, under `baseNames`), and the models have no tensor beyond those and their heads.
 */
export function checkSameTensors(
  first: Opened,
  all: readonly Opened[],
  base: Opened | undefined,
  encoderNames: readonly string[],
  baseNames: ReadonlyMap<string, string>,
  isHead: (o: Opened, name: string) => boolean,
): void {
  const encoderSet = new Set(encoderNames);
  for (const o of all) {
    const isBase = o === base;
    for (const name of encoderNames) {
      if (isBase && !FLOAT_DTYPES.has(first.ckpt.info(name).dtype)) continue;
      const here = isBase ? baseNames.get(name)! : name;
      if (!o.ckpt.has(here)) {
        throw new FmnError(
          `inputs of different shapes: tensor "${name}" of ${first.ckpt.dir} is missing`,
          o.ckpt.dir,
        );
      }
      const a = first.ckpt.info(name);
      const b = o.ckpt.info(here);
      if (!shapeEquals(a.shape, b.shape)) {
        throw new FmnError(
          `inputs of different shapes: tensor "${here}" is ${formatShape(b.shape)} here but ${formatShape(a.shape)} in ${first.ckpt.dir}`,
          o.ckpt.dir,
        );
      }
      if (FLOAT_DTYPES.has(a.dtype) !== FLOAT_DTYPES.has(b.dtype)) {
        throw new FmnError(
          `tensor "${here}" is ${b.dtype} here but ${a.dtype} in ${first.ckpt.dir}`,
          o.ckpt.dir,
        );
      }
    }
    if (!isBase) {
      for (const name of o.ckpt.names()) {
        if (!encoderSet.has(name) && !isHead(o, name)) {
          throw new FmnError(
            `inputs of different shapes: tensor "${name}" is not in ${first.ckpt.dir}`,
            o.ckpt.dir,
          );
        }
      }
    }
  }
}
