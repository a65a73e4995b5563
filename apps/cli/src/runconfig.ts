/** The `fmn run` configuration file (JSON or YAML), validated into a RunPlan with absolute paths. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FmnError, type FisherConvention } from '@fmn/core';
import { listMergeMethods, mergeMethodNames, type MergeMethodSpec, type OptionValue } from '@fmn/merge';
import { DEFAULT_DIRICHLET_SAMPLES } from './search/candidates.js';
import { DEFAULT_HOLDOUT } from './search/holdout.js';
import { configKeysOf, methodOptionsFromConfig } from './merge-methods.js';
import { configModelDir } from './model-path.js';

export interface PlanTask {
  name: string;
  model: string;
  /** data for the Fisher (a file, or a task folder read with split `train`) */
  fisherData: string;
  fisherSplit: string;
  /** data for evaluation (a file, or a task folder read with split `dev`) */
  evalData: string;
  evalSplit: string;
  /** GLUE task preset */
  task?: string;
  /**
   * the only rows of the Fisher data (train) the coefficient search may hold out: e.g. the zoo's
   * rows kept out of fine-tuning (`fmn demo`); absent: any row
   */
  searchRows?: readonly number[];
}

export interface PlanMethod {
  /** label in the tables */
  label: string;
  /** a registered merge method */
  method: string;
  lambda?: number;
  /** the method's options by key (its spec's options; defaults are filled in by the merge) */
  options?: Record<string, OptionValue>;
  /** choose the coefficients of each merge by the coefficient search (docs/method.md §5.6) */
  search?: boolean;
}

export interface RunPlan {
  file: string;
  title: string;
  output: string;
  cache: string;
  backend?: string;
  base?: string;
  keepModels: boolean;
  fisher: {
    samples: number | 'all';
    batchSize: number;
    seed: number;
    convention: FisherConvention;
    maxLength?: number;
  };
  eval: { batchSize: number; maxLength?: number };
  /** the coefficient search's settings (methods with `search: true`) */
  search: { holdout: number; seed: number; samples: number };
  /** combination sizes */
  k: number[];
  methods: PlanMethod[];
  tasks: PlanTask[];
}

type Obj = Record<string, unknown>;

const TOP_KEYS = [
  'title',
  'output',
  'cache',
  'backend',
  'base',
  'keep_models',
  'fisher',
  'eval',
  'search',
  'k',
  'methods',
  'tasks',
];

/** The run configuration's help; the methods' keys come from the merge-method registry. */
export function configHelp(): string {
  const methodKeys = listMergeMethods()
    .map((m) => {
      const keys = m.options
        .map((o) => ({ o, key: o.configKey === undefined ? o.key : o.configKey }))
        .filter((x): x is { o: typeof x.o; key: string } => x.key !== null)
        .map(({ o, key }) => `${key} (${o.help}; default ${String(o.default)})`);
      return keys.length ? `\n  #   ${m.name}: ${keys.join(', ')}` : '';
    })
    .join('');
  return `Configuration (JSON or YAML; paths relative to the file):
  title: "mini-GLUE, BERT"          # optional
  output: report                    # folder for report.json/.md/.html (default: fmn-report beside the file)
  cache: .fmn-cache                 # Fisher cache (default: <output>/fisher-cache)
  backend: tfjs                     # optional: tfjs, onnxruntime, tfjs-wasm, ...
  base: models/base                 # pre-trained base (${listMergeMethods()
    .filter((m) => m.needs.base)
    .map((m) => m.name)
    .join(', ')})
  keep_models: false                # keep the merged model folders under <output>/merges
  fisher: { samples: 128, batch_size: 32, seed: 0, convention: batch, max_length: 128 }
  eval: { batch_size: 32, max_length: 128 }
  search: { holdout: 256, seed: 0, samples: 20 }  # for methods with "search: true" (docs/method.md §5.6)
  k: [2]                            # how many tasks to merge at once ("all" = every task)
  methods: [average, fisher, fisher-nodes, {method: fisher-nodes, mapping: block}, ties]
  # a method as a mapping: method (${mergeMethodNames().join(', ')}), name (label in the tables),
  #   lambda, search (true: choose the scale or the lambdas on held-out train examples), and the method's own keys:${methodKeys}
  tasks:
    - { name: sst2, model: models/sst2, data: glue/SST-2, task: sst2 }
    - { name: mrpc, model: models/mrpc, fisher_data: mrpc/train.tsv, eval_data: mrpc/dev.tsv, task: mrpc }`;
}

/** A model path of the configuration; a problem with it is reported as the configuration's, naming the key. */
function modelIn(file: string, here: string, arg: string, key: string): string {
  try {
    return configModelDir(here, arg);
  } catch (e) {
    if (e instanceof FmnError) throw err(file, `${key}: ${e.message}`);
    throw e;
  }
}

function err(file: string, msg: string): FmnError {
  return new FmnError(`invalid run configuration: ${msg}`, file);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(file: string, o: Obj, key: string, where: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw err(file, `${where}: "${key}" is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw err(file, `${where}: "${key}" must be a non-empty string`);
  return v;
}

function int(file: string, o: Obj, key: string, where: string, min: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw err(file, `${where}: "${key}" must be an integer >= ${min}`);
  return v;
}

function num(file: string, o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw err(file, `${where}: "${key}" must be a number`);
  return v;
}

function unknownKeys(file: string, o: Obj, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw err(file, `${where}: unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

export function parseRunConfig(text: string, file: string): RunPlan {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new FmnError(`cannot parse the run configuration: ${(e as Error).message.split('\n')[0]}`, file);
  }
  if (!isObj(raw)) throw err(file, 'expected a mapping at the top level');
  if ('merge_method' in raw) {
    throw err(
      file,
      'this is a merge configuration in mergekit\'s format ("merge_method"): run it with fmn merge --config',
    );
  }
  unknownKeys(file, raw, TOP_KEYS, 'top level');
  const here = dirname(resolve(file));
  const path = (p: string) => resolve(here, p);

  const output = path(str(file, raw, 'output', 'top level') ?? 'fmn-report');
  const fisherRaw = raw.fisher ?? {};
  if (!isObj(fisherRaw)) throw err(file, '"fisher" must be a mapping');
  unknownKeys(file, fisherRaw, ['samples', 'batch_size', 'seed', 'convention', 'max_length'], 'fisher');
  let samples: number | 'all' = 128;
  if (fisherRaw.samples !== undefined) {
    if (fisherRaw.samples === 'all') samples = 'all';
    else samples = int(file, fisherRaw, 'samples', 'fisher', 1)!;
  }
  const convention = fisherRaw.convention ?? 'batch';
  if (convention !== 'batch' && convention !== 'example' && convention !== 'model')
    throw err(file, 'fisher: "convention" must be batch, example or model');
  const evalRaw = raw.eval ?? {};
  if (!isObj(evalRaw)) throw err(file, '"eval" must be a mapping');
  unknownKeys(file, evalRaw, ['batch_size', 'max_length'], 'eval');

  if (!Array.isArray(raw.tasks) || raw.tasks.length < 2)
    throw err(file, '"tasks" must list at least two tasks');
  const names = new Set<string>();
  const tasks: PlanTask[] = raw.tasks.map((t, i) => {
    const where = `tasks[${i}]`;
    if (!isObj(t)) throw err(file, `${where} must be a mapping`);
    unknownKeys(file, t, ['name', 'model', 'data', 'fisher_data', 'eval_data', 'task'], where);
    const name = str(file, t, 'name', where, true)!;
    if (names.has(name)) throw err(file, `${where}: task name "${name}" is used twice`);
    names.add(name);
    const data = str(file, t, 'data', where);
    const fisherData = str(file, t, 'fisher_data', where) ?? data;
    const evalData = str(file, t, 'eval_data', where) ?? data;
    if (!fisherData || !evalData)
      throw err(file, `${where}: give "data" (a task folder) or both "fisher_data" and "eval_data"`);
    return {
      name,
      model: modelIn(file, here, str(file, t, 'model', where, true)!, `${where}: "model"`),
      fisherData: path(fisherData),
      fisherSplit: 'train',
      evalData: path(evalData),
      evalSplit: 'dev',
      task: str(file, t, 'task', where),
    };
  });

  let k: number[] = [2];
  if (raw.k !== undefined) {
    const ks = raw.k === 'all' ? [tasks.length] : Array.isArray(raw.k) ? raw.k : [raw.k];
    k = ks.map((x) => {
      const v = x === 'all' ? tasks.length : x;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > tasks.length) {
        throw err(
          file,
          `"k": each value must be an integer from 2 to the number of tasks (${tasks.length}) or "all"`,
        );
      }
      return v;
    });
    k = [...new Set(k)].sort((a, b) => a - b);
  }

  if (!Array.isArray(raw.methods) || raw.methods.length === 0)
    throw err(file, '"methods" must list at least one method');
  const labels = new Set<string>();
  const methods: PlanMethod[] = raw.methods.map((m, i) => {
    const where = `methods[${i}]`;
    const o: Obj = typeof m === 'string' ? { method: m } : isObj(m) ? m : {};
    if (!isObj(m) && typeof m !== 'string') throw err(file, `${where} must be a method name or a mapping`);
    const method = str(file, o, 'method', where, true)!;
    const spec = listMergeMethods().find((x) => x.name === method);
    if (!spec) {
      throw err(file, `${where}: unknown method "${method}" (known: ${mergeMethodNames().join(', ')})`);
    }
    unknownKeys(file, o, ['method', 'name', 'lambda', 'search', ...configKeysOf(spec)], where);
    const options = methodOptionsFromConfig(spec, o, (msg) => err(file, `${where}: ${msg}`));
    const search = searchOf(file, o, spec, options, where);
    const base = spec.label ? spec.label(options) : method;
    const label = str(file, o, 'name', where) ?? (search ? `${base} (searched)` : base);
    if (labels.has(label)) throw err(file, `${where}: method "${label}" is listed twice (give one a "name")`);
    labels.add(label);
    return { label, method, lambda: num(file, o, 'lambda', where), options, ...(search ? { search } : {}) };
  });
  const base = str(file, raw, 'base', 'top level');
  const needsBase = methods.filter((m) => listMergeMethods().find((x) => x.name === m.method)?.needs.base);
  if (needsBase.length && !base)
    throw err(file, `method "${needsBase[0].label}" needs "base" (the pre-trained model)`);
  const searchRaw = raw.search ?? {};
  if (!isObj(searchRaw)) throw err(file, '"search" must be a mapping');
  unknownKeys(file, searchRaw, ['holdout', 'seed', 'samples'], 'search');
  if (raw.keep_models !== undefined && typeof raw.keep_models !== 'boolean')
    throw err(file, '"keep_models" must be true or false');

  return {
    file,
    title: str(file, raw, 'title', 'top level') ?? `fmn run ${file}`,
    output,
    cache: str(file, raw, 'cache', 'top level') ? path(raw.cache as string) : resolve(output, 'fisher-cache'),
    backend: str(file, raw, 'backend', 'top level'),
    base: base ? modelIn(file, here, base, '"base"') : undefined,
    keepModels: raw.keep_models === true,
    fisher: {
      samples,
      batchSize: int(file, fisherRaw, 'batch_size', 'fisher', 1) ?? 32,
      seed: int(file, fisherRaw, 'seed', 'fisher', 0) ?? 0,
      convention,
      maxLength: int(file, fisherRaw, 'max_length', 'fisher', 2),
    },
    eval: {
      batchSize: int(file, evalRaw, 'batch_size', 'eval', 1) ?? 32,
      maxLength: int(file, evalRaw, 'max_length', 'eval', 2),
    },
    search: {
      holdout: int(file, searchRaw, 'holdout', 'search', 1) ?? DEFAULT_HOLDOUT,
      seed: int(file, searchRaw, 'seed', 'search', 0) ?? 0,
      samples: int(file, searchRaw, 'samples', 'search', 0) ?? DEFAULT_DIRICHLET_SAMPLES,
    },
    k,
    methods,
    tasks,
  };
}

/** A method entry's `search`: true only for a method with coefficients, and not with the ones it chooses. */
function searchOf(
  file: string,
  o: Obj,
  spec: MergeMethodSpec,
  options: Record<string, OptionValue>,
  where: string,
): boolean {
  if (o.search === undefined || o.search === null || o.search === false) return false;
  if (o.search !== true) throw err(file, `${where}: "search" must be true or false`);
  if (!spec.search) throw err(file, `${where}: method "${spec.name}" has no coefficients to search`);
  if (spec.search === 'lambdas' && o.lambda !== undefined)
    throw err(file, `${where}: "search" chooses the lambdas; do not give "lambda"`);
  if (spec.search === 'scale' && options.scale !== undefined)
    throw err(file, `${where}: "search" chooses the scale; do not give it`);
  return true;
}

export async function readRunConfig(file: string): Promise<RunPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FmnError(
      code === 'ENOENT' ? 'run configuration not found' : `cannot read the run configuration (${code})`,
      file,
    );
  }
  return parseRunConfig(text, file);
}

/** Every combination of k items of `items`, in lexicographic order of indices. */
export function combinations<T>(items: readonly T[], k: number): T[][] {
  const out: T[][] = [];
  const pick = (start: number, acc: T[]) => {
    if (acc.length === k) {
      out.push([...acc]);
      return;
    }
    for (let i = start; i <= items.length - (k - acc.length); i++) pick(i + 1, [...acc, items[i]]);
  };
  pick(0, []);
  return out;
}
