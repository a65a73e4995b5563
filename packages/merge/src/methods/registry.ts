/**
 * The merge-method registry: the built-in methods are registered here; `registerMergeMethod` adds
 * another (a duplicate name throws). The engine and the CLI look methods up by name.
 */
import { FmnError } from '@fmn/core';
import type { MergeMethodSpec } from './spec.js';
import { fisherNodes } from './fisher-nodes.js';
import { fisher } from './fisher.js';
import { average } from './average.js';
import { taskArithmetic } from './task-arithmetic.js';
import { ties } from './ties.js';
import { dare } from './dare.js';
import { regmean } from './regmean.js';
import { mergekitLinearSpec } from './mergekit-linear.js';
import {
  mergekitDareLinear,
  mergekitDareTies,
  mergekitTaskArithmeticSpec,
  mergekitTies,
} from './mergekit-task-arithmetic.js';

type AnySpec = MergeMethodSpec<any>;

const methods = new Map<string, AnySpec>();

export function registerMergeMethod<S>(spec: MergeMethodSpec<S>): void {
  if (typeof spec.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(spec.name)) {
    throw new FmnError(
      `a merge method name must be lower-case letters, digits and dashes, got ${JSON.stringify(spec.name)}`,
    );
  }
  if (methods.has(spec.name)) {
    throw new FmnError(`a merge method named "${spec.name}" is already registered`);
  }
  methods.set(spec.name, spec);
}

/** The registered names, in registration order (the built-ins first). */
export function mergeMethodNames(): string[] {
  return [...methods.keys()];
}

export function listMergeMethods(): AnySpec[] {
  return [...methods.values()];
}

/** The spec registered under `name`, or an FmnError listing the known methods. */
export function mergeMethod(name: string): AnySpec {
  const spec = typeof name === 'string' ? methods.get(name) : undefined;
  if (!spec) {
    throw new FmnError(`unknown merge method "${String(name)}" (known: ${mergeMethodNames().join(', ')})`);
  }
  return spec;
}

registerMergeMethod(fisherNodes);
registerMergeMethod(fisher);
registerMergeMethod(average);
registerMergeMethod(taskArithmetic);
registerMergeMethod(ties);
registerMergeMethod(dare);
registerMergeMethod(regmean);
// mergekit's conventions (docs/method.md 5.7), what `fmn merge --config` runs
registerMergeMethod(mergekitLinearSpec);
registerMergeMethod(mergekitTaskArithmeticSpec);
registerMergeMethod(mergekitTies);
registerMergeMethod(mergekitDareLinear);
registerMergeMethod(mergekitDareTies);
