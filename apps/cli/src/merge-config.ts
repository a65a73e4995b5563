/**
 * `fmn merge --config FILE`: one merge described in mergekit's YAML schema (`merge_method`,
 * `base_model`, `models: [{model, parameters: {weight, density}}]`, `parameters`, `dtype`), for
 * the methods fmn and mergekit share (linear, task_arithmetic, ties, dare_linear, dare_ties) and
 * fmn's own (fisher_nodes, fisher, regmean). Validated into a MergeConfigPlan with absolute paths;
 * the mergekit methods then follow mergekit's conventions (docs/method.md 5.7).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FmnError } from '@fmn/core';
import { configModelDir } from './model-path.js';

export const MERGEKIT_METHODS = ['linear', 'task_arithmetic', 'ties', 'dare_linear', 'dare_ties'] as const;
export const FMN_CONFIG_METHODS = ['fisher_nodes', 'fisher', 'regmean'] as const;
export type MergekitMethod = (typeof MERGEKIT_METHODS)[number];
export type ConfigMethod = MergekitMethod | (typeof FMN_CONFIG_METHODS)[number];

export interface MergeConfigModel {
  /** model folder (absolute) */
  dir: string;
  /** mergekit's `weight` (fmn methods: lambda_j, default 1) */
  weight: number;
  /** mergekit's `density`: fraction kept (ties, dare_*; default 1) */
  density: number;
  /** fisher_nodes: mask Fisher file; fisher: full Fisher file */
  fisher?: string;
  /** regmean: Gram file */
  gram?: string;
}

export interface MergeConfigPlan {
  file: string;
  method: ConfigMethod;
  models: MergeConfigModel[];
  /** pre-trained base (task_arithmetic, ties, dare_*) */
  base?: string;
  /** mergekit methods: divide by the (agreeing) weights' sum */
  normalize: boolean;
  /** task_arithmetic, ties, dare_*: scale of the mixed task vector */
  lambda: number;
  /** ties, dare_*: L1-rescale each sparsified task vector */
  rescale: boolean;
  /** dare_*: seed of the Bernoulli drop (fmn's extension `random_seed`; mergekit draws from torch) */
  seed: number;
  /** fisher_nodes */
  mapping?: 'paper' | 'block';
  /** regmean */
  alpha?: number;
  /** output dtype (`out_dtype`, else `dtype`) */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** output folder (fmn's extension `out`), absolute */
  out?: string;
  /** keys accepted but ignored */
  warnings: string[];
}

type Obj = Record<string, unknown>;

export const MERGE_CONFIG_HELP = `Merge configuration (mergekit's YAML; paths relative to the file):
  merge_method: ties               # linear, task_arithmetic, ties, dare_linear, dare_ties (mergekit's
                                   #   conventions), fisher_nodes, fisher, regmean (fmn's)
  base_model: models/base          # task_arithmetic, ties, dare_*: the pre-trained model
  models:
    - model: models/sst2           # a folder or a hub id in the local HuggingFace cache
      parameters: { weight: 1.0, density: 0.5 }
    - model: models/mrpc
      fisher: mrpc.fisher.safetensors   # fisher_nodes / fisher: the model's Fisher file (regmean: gram)
      parameters: { weight: 1.0, density: 0.5 }
  parameters: { normalize: true, lambda: 1.0, rescale: false }   # also weight/density defaults;
                                   #   fisher_nodes: mapping (paper|block); regmean: alpha
  dtype: float16                   # float32, float16, bfloat16 (out_dtype overrides)
  random_seed: 0                   # dare_*: seed of the drop (fmn's extension)
  out: merged                      # output folder (fmn's extension; --out overrides)`;

const TOP_KEYS = [
  'merge_method',
  'base_model',
  'models',
  'parameters',
  'dtype',
  'out_dtype',
  'random_seed',
  'out',
];
/** mergekit keys fmn accepts but does not use */
const IGNORED_TOP: Record<string, string> = {
  tokenizer_source: 'each merged model keeps its own input tokenizer',
  tokenizer: 'each merged model keeps its own input tokenizer',
  chat_template: 'classifiers have no chat template',
  name: 'the output folder is "out" or --out',
};
const REFUSED_TOP: Record<string, string> = {
  slices: 'layer slices are not supported (list whole models under "models")',
  modules: 'modules are not supported (list whole models under "models")',
};
const DTYPES: Record<string, 'F32' | 'F16' | 'BF16'> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
};

interface ParamSpec {
  /** per-model (tensor) parameters */
  model: Record<string, 'number' | 'boolean'>;
  /** whole-merge parameters */
  global: Record<string, 'number' | 'boolean' | 'string'>;
  /** accepted, ignored with a warning */
  ignored: string[];
  /** per-model parameters accepted without effect (warning) */
  unused?: string[];
}

const GTA_GLOBAL = { normalize: 'boolean', rescale: 'boolean', lambda: 'number' } as const;
const SPECS: Record<ConfigMethod, ParamSpec> = {
  linear: { model: { weight: 'number' }, global: { normalize: 'boolean' }, ignored: [] },
  task_arithmetic: {
    model: { weight: 'number', density: 'number' },
    global: GTA_GLOBAL,
    ignored: ['int8_mask'],
    unused: ['density'],
  },
  ties: { model: { weight: 'number', density: 'number' }, global: GTA_GLOBAL, ignored: ['int8_mask'] },
  dare_linear: { model: { weight: 'number', density: 'number' }, global: GTA_GLOBAL, ignored: ['int8_mask'] },
  dare_ties: { model: { weight: 'number', density: 'number' }, global: GTA_GLOBAL, ignored: ['int8_mask'] },
  fisher_nodes: { model: { weight: 'number' }, global: { mapping: 'string' }, ignored: [] },
  fisher: { model: { weight: 'number' }, global: {}, ignored: [] },
  regmean: { model: { weight: 'number' }, global: { alpha: 'number' }, ignored: [] },
};
/** defaults of the mergekit methods' parameters (mergekit's registry) */
const DEFAULTS: Record<ConfigMethod, { normalize: boolean; rescale: boolean }> = {
  linear: { normalize: true, rescale: false },
  task_arithmetic: { normalize: false, rescale: false },
  ties: { normalize: true, rescale: false },
  dare_linear: { normalize: false, rescale: true },
  dare_ties: { normalize: false, rescale: true },
  fisher_nodes: { normalize: true, rescale: false },
  fisher: { normalize: true, rescale: false },
  regmean: { normalize: true, rescale: false },
};
const NEEDS_BASE: ReadonlySet<ConfigMethod> = new Set([
  'task_arithmetic',
  'ties',
  'dare_linear',
  'dare_ties',
]);

/** own keys only (a key such as "constructor" is not a known parameter) */
function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseMergeConfig(text: string, file: string): MergeConfigPlan {
  const err = (msg: string): FmnError => new FmnError(`invalid merge configuration: ${msg}`, file);
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new FmnError(`cannot parse the merge configuration: ${(e as Error).message.split('\n')[0]}`, file);
  }
  if (!isObj(raw)) throw err('expected a mapping at the top level');
  const warnings: string[] = [];
  for (const key of Object.keys(raw)) {
    if (has(REFUSED_TOP, key)) throw err(`"${key}": ${REFUSED_TOP[key]}`);
    if (has(IGNORED_TOP, key)) warnings.push(`"${key}" is ignored by fmn (${IGNORED_TOP[key]})`);
    else if (!TOP_KEYS.includes(key)) {
      throw err(`unknown key "${key}" (known: ${[...TOP_KEYS, ...Object.keys(IGNORED_TOP)].join(', ')})`);
    }
  }
  const here = dirname(resolve(file));
  const path = (p: string): string => resolve(here, p);
  const str = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || v === '') throw err(`${where} must be a non-empty string`);
    return v;
  };
  const modelPath = (v: unknown, where: string): string => {
    const s = str(v, where);
    if (s.includes('+') && !existsSync(resolve(here, s)))
      throw err(`${where}: "${s}": LoRA references (model+lora) are not supported`);
    return configModelDir(here, s);
  };

  const methodName = raw.merge_method;
  if (methodName === undefined) throw err('"merge_method" is required');
  const known: readonly string[] = [...MERGEKIT_METHODS, ...FMN_CONFIG_METHODS];
  if (typeof methodName !== 'string' || !known.includes(methodName)) {
    throw err(
      `"merge_method": unknown or unsupported method ${JSON.stringify(methodName)} (supported: ${known.join(', ')})`,
    );
  }
  const method = methodName as ConfigMethod;
  const spec = SPECS[method];

  /** one parameter value: scalars only (mergekit's gradients and filtered lists are refused) */
  const value = (v: unknown, type: string, where: string): number | boolean | string => {
    if (Array.isArray(v) || isObj(v)) {
      throw err(
        `${where}: per-tensor parameter values (gradients, filter lists) are not supported; give a scalar`,
      );
    }
    if (type === 'number' && (typeof v !== 'number' || !Number.isFinite(v)))
      throw err(`${where} must be a number`);
    if (type === 'boolean' && typeof v !== 'boolean') throw err(`${where} must be true or false`);
    if (type === 'string' && typeof v !== 'string') throw err(`${where} must be a string`);
    return v as number | boolean | string;
  };

  // top-level parameters: whole-merge ones, and defaults of the per-model ones (mergekit falls back to them)
  const globals: Obj = {};
  const modelDefaults: Obj = {};
  if (raw.parameters !== undefined && raw.parameters !== null) {
    if (!isObj(raw.parameters)) throw err('"parameters" must be a mapping');
    for (const [k, v] of Object.entries(raw.parameters)) {
      const where = `parameters.${k}`;
      if (has(spec.global, k)) globals[k] = value(v, spec.global[k], where);
      else if (has(spec.model, k)) modelDefaults[k] = value(v, spec.model[k], where);
      else if (spec.ignored.includes(k)) warnings.push(`"${where}" is ignored by fmn`);
      else {
        throw err(
          `unknown key "${where}" for ${method} (known: ${[...Object.keys(spec.global), ...Object.keys(spec.model), ...spec.ignored].join(', ')})`,
        );
      }
    }
  }

  const base =
    raw.base_model === undefined || raw.base_model === null
      ? undefined
      : modelPath(raw.base_model, '"base_model"');
  if (NEEDS_BASE.has(method) && !base) throw err(`${method} needs "base_model" (the pre-trained model)`);
  if (!NEEDS_BASE.has(method) && method !== 'linear' && base) {
    warnings.push(`"base_model" is not used by ${method}; ignored`);
  }

  if (!Array.isArray(raw.models)) throw err('"models" must be a list of {model, parameters}');
  const fileKey =
    method === 'regmean' ? 'gram' : method === 'fisher_nodes' || method === 'fisher' ? 'fisher' : undefined;
  const models: MergeConfigModel[] = [];
  raw.models.forEach((m, i) => {
    const where = `models[${i}]`;
    if (typeof m === 'string') m = { model: m };
    if (!isObj(m)) throw err(`${where} must be a mapping with "model"`);
    for (const k of Object.keys(m)) {
      if (k !== 'model' && k !== 'parameters' && k !== fileKey) {
        throw err(`unknown key "${where}.${k}" (known: model, parameters${fileKey ? `, ${fileKey}` : ''})`);
      }
    }
    if (m.model === undefined) throw err(`${where}: "model" is required`);
    const dir = modelPath(m.model, `${where}.model`);
    if (base && dir === base && NEEDS_BASE.has(method)) {
      // mergekit lists the base among the models; it is the base, not a task vector
      return;
    }
    const params: Obj = { ...modelDefaults };
    if (m.parameters !== undefined && m.parameters !== null) {
      if (!isObj(m.parameters)) throw err(`${where}.parameters must be a mapping`);
      for (const [k, v] of Object.entries(m.parameters)) {
        const w = `${where}.parameters.${k}`;
        if (!has(spec.model, k)) {
          throw err(`unknown key "${w}" for ${method} (known: ${Object.keys(spec.model).join(', ')})`);
        }
        params[k] = value(v, spec.model[k], w);
      }
    }
    if (params.weight === undefined && !fileKey) {
      throw err(`${where}: parameter "weight" is required for ${method} (as in mergekit)`);
    }
    for (const k of spec.unused ?? []) {
      if (params[k] !== undefined) warnings.push(`"${where}.parameters.${k}" has no effect for ${method}`);
    }
    const density = (params.density as number | undefined) ?? 1;
    if (density < 0) throw err(`${where}: "density" must be >= 0, got ${density}`);
    const weight = (params.weight as number | undefined) ?? 1;
    if (fileKey && !(weight > 0))
      throw err(`${where}: "weight" must be positive for ${method}, got ${weight}`);
    const extra: Partial<MergeConfigModel> = {};
    if (fileKey) {
      if (m[fileKey] === undefined)
        throw err(
          `${where}: "${fileKey}" (the model's ${fileKey === 'gram' ? 'Gram' : 'Fisher'} file) is required for ${method}`,
        );
      extra[fileKey] = path(str(m[fileKey], `${where}.${fileKey}`));
    }
    models.push({ dir, weight, density, ...extra });
  });
  if (method === 'linear' && base && !models.some((m) => m.dir === base)) {
    throw err('linear: "base_model" must be one of "models" (mergekit adds it as an input without a weight)');
  }
  if (models.length < 2)
    throw err(`a merge needs at least two models (besides the base), got ${models.length}`);

  const dtypeOf = (key: 'dtype' | 'out_dtype'): 'F32' | 'F16' | 'BF16' | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    const name = typeof v === 'string' ? v.replace(/^torch\./, '') : v;
    if (typeof name !== 'string' || !has(DTYPES, name)) {
      throw err(`"${key}": unknown dtype ${JSON.stringify(v)} (float32, float16, bfloat16)`);
    }
    return DTYPES[name];
  };
  const dtype = dtypeOf('out_dtype') ?? dtypeOf('dtype');

  let seed = 0;
  if (raw.random_seed !== undefined) {
    if (typeof raw.random_seed !== 'number' || !Number.isInteger(raw.random_seed)) {
      throw err('"random_seed" must be an integer');
    }
    seed = raw.random_seed;
    if (!method.startsWith('dare')) warnings.push(`"random_seed" is not used by ${method}; ignored`);
  }

  let mapping: 'paper' | 'block' | undefined;
  if (method === 'fisher_nodes') {
    const mp = globals.mapping ?? 'paper';
    if (mp !== 'paper' && mp !== 'block')
      throw err(`"parameters.mapping" must be paper or block, got ${String(mp)}`);
    mapping = mp;
  }
  let alpha: number | undefined;
  if (method === 'regmean') {
    alpha = (globals.alpha as number | undefined) ?? 0.9;
    if (!(alpha >= 0 && alpha <= 1)) throw err(`"parameters.alpha" must be in [0, 1], got ${alpha}`);
  }

  return {
    file: resolve(file),
    method,
    models,
    base: NEEDS_BASE.has(method) ? base : undefined,
    normalize: (globals.normalize as boolean | undefined) ?? DEFAULTS[method].normalize,
    lambda: (globals.lambda as number | undefined) ?? 1,
    rescale: (globals.rescale as boolean | undefined) ?? DEFAULTS[method].rescale,
    seed,
    mapping,
    alpha,
    dtype,
    out: raw.out === undefined || raw.out === null ? undefined : path(str(raw.out, '"out"')),
    warnings,
  };
}

export async function readMergeConfig(file: string): Promise<MergeConfigPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FmnError(
      `cannot read the merge configuration: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      file,
    );
  }
  return parseMergeConfig(text, file);
}

/** What `fmn merge` runs for a configuration: a registered method, its inputs and options. */
export interface ConfigMerge {
  /** the registered merge method */
  method: string;
  models: { dir: string; fisher?: string; gram?: string }[];
  base?: string;
  /** lambda_j: mergekit's per-model weight */
  lambda: number[];
  options: Record<string, number | boolean | string>;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** The registered method each configuration method runs as. */
export const CONFIG_METHOD_NAMES: Record<ConfigMethod, string> = {
  linear: 'mergekit-linear',
  task_arithmetic: 'mergekit-task-arithmetic',
  ties: 'mergekit-ties',
  dare_linear: 'mergekit-dare-linear',
  dare_ties: 'mergekit-dare-ties',
  fisher_nodes: 'fisher-nodes',
  fisher: 'fisher',
  regmean: 'regmean',
};

/** The merge a validated configuration describes. */
export function configMerge(plan: MergeConfigPlan): ConfigMerge {
  const m = plan.method;
  let options: ConfigMerge['options'];
  if (m === 'linear') options = { normalize: plan.normalize };
  else if (m === 'fisher_nodes') options = { mapping: plan.mapping ?? 'paper' };
  else if (m === 'fisher') options = {};
  else if (m === 'regmean') options = { alpha: plan.alpha ?? 0.9 };
  else {
    options = {
      densities: plan.models.map((x) => String(x.density)).join(','),
      normalize: plan.normalize,
      rescale: plan.rescale,
      lambda: plan.lambda,
    };
    if (m === 'dare_linear' || m === 'dare_ties') options.seed = plan.seed;
  }
  return {
    method: CONFIG_METHOD_NAMES[m],
    models: plan.models.map((x) => ({
      dir: x.dir,
      ...(x.fisher ? { fisher: x.fisher } : {}),
      ...(x.gram ? { gram: x.gram } : {}),
    })),
    base: plan.base,
    lambda: plan.models.map((x) => x.weight),
    options,
    dtype: plan.dtype,
  };
}
