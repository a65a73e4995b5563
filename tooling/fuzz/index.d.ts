import type fc from 'fast-check';

/** Seed and run count: FMN_FUZZ_SEED / FMN_FUZZ_RUNS, else a fixed seed and `defaultRuns`. */
export function fuzzSettings(defaultRuns: number): { seed: number; numRuns: number; long: boolean };

/** A mutation of a byte string: flips, overwrites, truncation, insertion, deletion, duplication. */
export type ByteMutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; bytes: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

/** 1..`max` byte mutations (positions as fractions of the length, so they fit any input). */
export function byteMutations(max?: number): fc.Arbitrary<ByteMutation[]>;
/** `bytes` with the mutations applied in order. */
export function applyByteMutations(bytes: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array;

/** A mutation of a JSON value at a path picked by fraction. */
export type JsonMutation =
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown };

/** Awkward JSON values: huge, negative, fractional, non-finite-as-text numbers, wrong types, prototype keys. */
export function nastyJsonValue(): fc.Arbitrary<unknown>;
/** 1..`max` JSON mutations. */
export function jsonMutations(max?: number): fc.Arbitrary<JsonMutation[]>;
/** A deep copy of `value` with the mutations applied. */
export function applyJsonMutations(value: unknown, mutations: readonly JsonMutation[]): unknown;
/** JSON text of a value, keeping the marker for `-1e400` / `1e400` as that literal text. */
export function toJsonText(value: unknown): string;

/**
 * Runs `parse`; passes when it returns or throws an FmnError whose message names `file` (the
 * basename is enough). Any other error, or an FmnError not naming the file, is rethrown with the
 * reason; a run longer than `timeoutMs` fails.
 */
export function expectCleanOutcome(parse: () => unknown, file: string, timeoutMs?: number): Promise<void>;

/** fc.assert with `fuzzSettings(defaultRuns)`; a failure's message starts with the seed to replay. */
export function runProperty<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  defaultRuns: number,
): Promise<void>;
