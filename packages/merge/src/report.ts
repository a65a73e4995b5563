/**
 * merge-report.json: the inputs with content hashes, the method's own fields, and each model's
 * share per group of tensors ("embeddings-and-shared", "layer 0", ...) and overall.
 */
import { resolve } from 'node:path';
import { FmnError, type Checkpoint, type MaskMapping, type Weighting } from '@fmn/core';
import { sha256File } from './compatibility.js';
import type { ShareRule } from './methods/spec.js';

export interface InputFileHash {
  readonly file: string;
  readonly sha256: string;
}

export interface MergeReport {
  readonly format: 'fmn-merge-report';
  readonly version: 1;
  readonly method: string;
  readonly mapping: MaskMapping | null;
  readonly modelType: string;
  readonly inputs: {
    readonly dir: string;
    readonly output: string;
    readonly lambda: number;
    readonly weights: InputFileHash[];
    readonly fisher: InputFileHash | null;
    readonly taskHeadTensors: string[];
  }[];
  readonly base: { readonly dir: string; readonly weights: InputFileHash[] } | null;
  readonly lambdas: number[];
  readonly scale: number | null;
  readonly ties: { readonly k: number; readonly thresholds: number[]; readonly majoritySign: number } | null;
  readonly dare: { readonly p: number; readonly seed: number; readonly ties: boolean } | null;
  readonly fisherFloor: number | null;
  readonly zeroRule: { readonly head: number; readonly neuron: number } | null;
  readonly dtype: string;
  readonly mergedTensors: number;
  readonly shareDefinition: string;
  /** per group ("embeddings-and-shared", "layer 0", ...), then "all": share of each model, in input order */
  readonly shares: Record<string, (number | null)[]>;
  /** fields of methods added after report version 1 */
  readonly [field: string]: unknown;
}

/** Method fields of report version 1, in their place: null unless the method sets them. */
const V1_METHOD_FIELDS = ['mapping', 'scale', 'ties', 'dare', 'fisherFloor', 'zeroRule'] as const;
const ENGINE_FIELDS = new Set([
  'format',
  'version',
  'method',
  'modelType',
  'inputs',
  'base',
  'lambdas',
  'dtype',
  'mergedTensors',
  'shareDefinition',
  'shares',
]);

export async function hashWeights(c: Checkpoint): Promise<InputFileHash[]> {
  const files = [...new Set(c.names().map((n) => c.info(n).file))].sort();
  const out: InputFileHash[] = [];
  for (const file of files) out.push({ file: resolve(file), sha256: await sha256File(file) });
  return out;
}

const SHARED_GROUP = 'embeddings-and-shared';

function groupOf(w: Weighting): string {
  return w.kind === 'universal' ? SHARED_GROUP : `layer ${w.layer}`;
}

/** Per group of tensors, each model's summed share and the number of entries. */
export class ShareGroups {
  private readonly groups = new Map<string, { sums: Float64Array; entries: number }>();
  constructor(private readonly models: number) {}

  add(w: Weighting, sums: Float64Array, entries: number): void {
    const g = groupOf(w);
    let acc = this.groups.get(g);
    if (!acc) this.groups.set(g, (acc = { sums: new Float64Array(this.models), entries: 0 }));
    for (let j = 0; j < this.models; j++) acc.sums[j] += sums[j];
    acc.entries += entries;
  }

  shares(rule: ShareRule): Record<string, (number | null)[]> {
    const M = this.models;
    const shareOf = (sums: Float64Array, entries: number): (number | null)[] => {
      if (rule.kind === 'mean') return [...sums].map((s) => (entries > 0 ? s / entries : null));
      const total = sums.reduce((a, b) => a + b, 0);
      return [...sums].map((s) => (total > 0 ? s / total : null));
    };
    const keys = [...this.groups.keys()].sort((a, b) => {
      const la = a === SHARED_GROUP ? -1 : Number(a.slice(6));
      const lb = b === SHARED_GROUP ? -1 : Number(b.slice(6));
      return la - lb;
    });
    const shares: Record<string, (number | null)[]> = {};
    const allSums = new Float64Array(M);
    let allEntries = 0;
    for (const key of keys) {
      const g = this.groups.get(key)!;
      shares[key] = shareOf(g.sums, g.entries);
      for (let j = 0; j < M; j++) allSums[j] += g.sums[j];
      allEntries += g.entries;
    }
    shares.all = shareOf(allSums, allEntries);
    return shares;
  }
}

export interface ReportParts {
  readonly method: string;
  readonly modelType: string;
  readonly inputs: MergeReport['inputs'];
  readonly base: MergeReport['base'];
  readonly lambdas: number[];
  readonly methodFields: Record<string, unknown>;
  readonly dtype: string;
  readonly mergedTensors: number;
  readonly shareDefinition: string;
  readonly shares: Record<string, (number | null)[]>;
}

/** The report with its fields in version 1's order; a method's newer fields go before `dtype`. */
export function buildReport(p: ReportParts): MergeReport {
  const f = p.methodFields;
  const v1 = new Set<string>(V1_METHOD_FIELDS);
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(f)) {
    if (ENGINE_FIELDS.has(key)) {
      throw new FmnError(`merge method "${p.method}" reports a field "${key}" that the engine writes`);
    }
    if (!v1.has(key)) extra[key] = value;
  }
  const field = (key: (typeof V1_METHOD_FIELDS)[number]): unknown => f[key] ?? null;
  return {
    format: 'fmn-merge-report',
    version: 1,
    method: p.method,
    mapping: field('mapping') as MergeReport['mapping'],
    modelType: p.modelType,
    inputs: p.inputs,
    base: p.base,
    lambdas: p.lambdas,
    scale: field('scale') as MergeReport['scale'],
    ties: field('ties') as MergeReport['ties'],
    dare: field('dare') as MergeReport['dare'],
    fisherFloor: field('fisherFloor') as MergeReport['fisherFloor'],
    zeroRule: field('zeroRule') as MergeReport['zeroRule'],
    ...extra,
    dtype: p.dtype,
    mergedTensors: p.mergedTensors,
    shareDefinition: p.shareDefinition,
    shares: p.shares,
  };
}
