/**
 * Opens the inputs (fine-tuned models and the base) and sorts the first model's tensors into
 * merged encoder tensors and task heads; finds the base model's name for every merged tensor.
 */
import { join } from 'node:path';
import {
  adapterFor as adapterForRegistry,
  basePrefixOf,
  Checkpoint,
  FmnError,
  type ArchitectureAdapter,
  type HfConfig,
  type TensorRole,
} from '@fmn/core';
import { checkSameModels, checkSameTensors, type Opened } from './compatibility.js';
import { FLOAT_DTYPES } from './float.js';

export interface OpenedInputs {
  readonly models: Opened[];
  readonly base: Opened | undefined;
  readonly first: Opened;
  /** the tensors every output shares, in the first model's order (non-float ones are copied) */
  readonly encoderNames: string[];
  /** the merged (floating-point) encoder tensors */
  readonly floatNames: string[];
  readonly roles: Map<string, Extract<TensorRole, { taskHead: false }>>;
  /** per model, its task-head tensors */
  readonly heads: string[][];
  /** merged tensor name -> the base model's name for it */
  readonly baseNames: Map<string, string>;
}

/**
 * A bare base model (as XModel.save_pretrained writes it) has no architecture prefix
 * ("embeddings..." for "bert.embeddings..."): a tensor is found under its own name, without the
 * adapter's base-model prefix, or (a model without the prefix) with it.
 */
function findBaseNames(
  base: Opened,
  floatNames: readonly string[],
  prefixOf: () => string | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  let prefix: string | undefined;
  let prefixKnown = false;
  for (const name of floatNames) {
    if (base.ckpt.has(name)) {
      out.set(name, name);
      continue;
    }
    if (!prefixKnown) {
      prefix = prefixOf();
      prefixKnown = true;
    }
    const other =
      prefix === undefined ? undefined : name.startsWith(prefix) ? name.slice(prefix.length) : prefix + name;
    if (other === undefined || !base.ckpt.has(other)) {
      throw new FmnError(
        `the base model has no tensor "${name}"${other === undefined ? '' : ` (nor "${other}")`}`,
        base.ckpt.dir,
      );
    }
    out.set(name, other);
  }
  return out;
}

export async function openInputs(
  dirs: readonly string[],
  baseDir: string | undefined,
  findAdapter: ((config: HfConfig, dir: string) => ArchitectureAdapter) | undefined,
  toClose: { close(): Promise<void> }[],
): Promise<OpenedInputs> {
  const adapterOf = findAdapter ?? ((config: HfConfig, dir: string) => adapterForRegistry(config, dir));
  const open = async (dir: string): Promise<Opened> => {
    const ckpt = await Checkpoint.open(dir);
    toClose.push(ckpt);
    const adapter = adapterOf(ckpt.config, dir);
    return { ckpt, adapter, layout: adapter.maskLayout(ckpt.config) };
  };
  const models: Opened[] = [];
  for (const dir of dirs) models.push(await open(dir));
  const base = baseDir !== undefined ? await open(baseDir) : undefined;
  const all = base ? [...models, base] : models;
  const first = models[0];
  await checkSameModels(first, all);

  // which tensors are merged, which are task heads. Non-floating-point tensors (buffers such as
  // embeddings.position_ids) have no merge role: they are copied, and must be equal.
  const isFloat = (c: Checkpoint, name: string): boolean => FLOAT_DTYPES.has(c.info(name).dtype);
  const isHead = (o: Opened, name: string): boolean =>
    isFloat(o.ckpt, name) && o.adapter.role(name, o.ckpt.config).taskHead;
  const roles = new Map<string, Extract<TensorRole, { taskHead: false }>>();
  const encoderNames: string[] = [];
  for (const name of first.ckpt.names()) {
    if (!isFloat(first.ckpt, name)) {
      encoderNames.push(name);
      continue;
    }
    const role = first.adapter.role(name, first.ckpt.config);
    if (!role.taskHead) {
      roles.set(name, role);
      encoderNames.push(name);
    }
  }
  const floatNames = encoderNames.filter((n) => isFloat(first.ckpt, n));
  const heads = models.map((o) => o.ckpt.names().filter((n) => isHead(o, n)));
  // the adapter's base-model prefix: core's registry (basePrefixOf), or the injected adapter's
  const prefixOf = (): string | undefined =>
    findAdapter ? first.adapter.prefix : basePrefixOf(first.ckpt.config, join(first.ckpt.dir, 'config.json'));
  const baseNames = base ? findBaseNames(base, floatNames, prefixOf) : new Map<string, string>();
  checkSameTensors(first, all, base, encoderNames, baseNames, isHead);
  return { models, base, first, encoderNames, floatNames, roles, heads, baseNames };
}
