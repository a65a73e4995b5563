/** A method's options from MergeOptions.options: defaults filled in, types checked, validated. */
import { FmnError } from '@fmn/core';
import type { MergeMethodSpec, MethodOption, MethodOptions, OptionValue } from './spec.js';

function typeOk(o: MethodOption, v: unknown): v is OptionValue {
  switch (o.type) {
    case 'number':
    case 'integer':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'choice':
      return typeof v === 'string';
  }
}

export function resolveOptions(
  spec: MergeMethodSpec,
  given: Readonly<Record<string, unknown>> | undefined,
  warn: (message: string) => void,
): MethodOptions {
  const declared = new Map(spec.options.map((o) => [o.key, o]));
  for (const [key, v] of Object.entries(given ?? {})) {
    if (v !== undefined && !declared.has(key))
      warn(`option "${key}" does not apply to method "${spec.name}"; ignored`);
  }
  const out: Record<string, OptionValue> = {};
  for (const o of spec.options) {
    const v = given?.[o.key] ?? o.default;
    if (!typeOk(o, v)) {
      const what = o.type === 'choice' ? 'a string' : o.type === 'boolean' ? 'true or false' : 'a number';
      throw new FmnError(
        `option "${o.key}" of method "${spec.name}" must be ${what}, got ${JSON.stringify(v)}`,
      );
    }
    o.validate?.(v);
    if (o.type === 'choice' && o.choices && !o.choices.includes(v as string)) {
      throw new FmnError(
        `option "${o.key}" of method "${spec.name}" must be one of ${o.choices.join(', ')}, got ${JSON.stringify(v)}`,
      );
    }
    out[o.key] = v;
  }
  spec.validate?.(out);
  return out;
}
