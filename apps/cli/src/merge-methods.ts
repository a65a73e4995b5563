/**
 * The CLI's view of the merge-method registry (@fmn/merge): `--method` choices, one option per
 * method flag (shared by the methods that declare it) with help and defaults from the specs, the
 * options of the chosen method from the parsed command line, and the methods of a run
 * configuration. Nothing here names a method.
 */
import { Option, type Command } from 'commander';
import { FmnError } from '@fmn/core';
import {
  listMergeMethods,
  mergeMethod,
  mergeMethodNames,
  type MergeMethodSpec,
  type MethodOption,
  type OptionValue,
} from '@fmn/merge';
import { parseIntOption, parseNumber } from './options.js';

export interface MethodFlag {
  readonly flag: string;
  readonly key: string;
  readonly option: MethodOption;
  /** the methods that take this flag */
  readonly methods: string[];
  /** their help texts, per method */
  readonly helps: string[];
}

/** Every flag of the registered methods, each once (methods sharing a flag share its key and type). */
export function methodFlags(): MethodFlag[] {
  const flags = new Map<string, MethodFlag>();
  for (const spec of listMergeMethods()) {
    for (const o of spec.options) {
      if (!o.flag) continue;
      const seen = flags.get(o.flag);
      if (!seen) {
        flags.set(o.flag, { flag: o.flag, key: o.key, option: o, methods: [spec.name], helps: [o.help] });
        continue;
      }
      if (seen.key !== o.key || seen.option.type !== o.type || seen.option.default !== o.default) {
        throw new Error(
          `merge methods ${seen.methods.join(', ')} and ${spec.name} declare ${o.flag} differently`,
        );
      }
      seen.methods.push(spec.name);
      seen.helps.push(o.help);
    }
  }
  return [...flags.values()];
}

/** commander's attribute name of a flag: --ties-k -> tiesK */
export function attributeOf(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function helpOf(f: MethodFlag): string {
  const same = f.helps.every((h) => h === f.helps[0]);
  const text = same
    ? `${f.methods.join(', ')}: ${f.helps[0]}`
    : f.methods.map((m, i) => `${m}: ${f.helps[i]}`).join('; ');
  const d = f.option.default;
  return f.option.type === 'boolean' ? text : `${text} (default: ${String(d)})`;
}

/** Adds `--method` with its choices, and a "Methods:" help section, from the registry. */
export function addMethodChoice(cmd: Command, mandatory = true): Command {
  const specs = listMergeMethods();
  const width = Math.max(...specs.map((m) => m.name.length));
  const lines = specs.map((m) => {
    const needs = [
      m.needs.base ? '--base' : '',
      m.needs.maskFisher ? '--fisher (mask Fisher)' : '',
      m.needs.fullFisher ? '--fisher (full Fisher, fmn fisher --full)' : '',
      m.needs.gram ? '--gram (fmn gram)' : '',
    ].filter(Boolean);
    return `  ${m.name.padEnd(width)}  ${m.description}${needs.length ? ` [needs ${needs.join(', ')}]` : ''}`;
  });
  return cmd
    .addOption(
      new Option('--method <method>', 'merge method (see Methods below)')
        .choices(mergeMethodNames())
        .makeOptionMandatory(mandatory),
    )
    .addHelpText('after', `\nMethods:\n${lines.join('\n')}`);
}

/** Adds every method flag of the registered methods. */
export function addMethodFlags(cmd: Command): Command {
  for (const f of methodFlags()) {
    const o = f.option;
    if (o.type === 'boolean') {
      cmd.addOption(new Option(f.flag, helpOf(f)));
      continue;
    }
    const arg = o.type === 'choice' ? (o.choices ?? []).join('|') : f.key;
    const opt = new Option(`${f.flag} <${arg}>`, helpOf(f));
    if (o.type === 'choice') opt.choices([...(o.choices ?? [])]);
    else if (o.type === 'integer') opt.argParser((v: string) => parseIntOption(f.flag, v));
    else opt.argParser((v: string) => parseNumber(f.flag, v));
    cmd.addOption(opt);
  }
  return cmd;
}

/** The registered methods that need a base model, and those that need a Fisher file (for help texts). */
export function methodsNeeding(need: 'base' | 'fisher' | 'gram'): string[] {
  return listMergeMethods()
    .filter((m) =>
      need === 'base'
        ? m.needs.base
        : need === 'gram'
          ? m.needs.gram
          : m.needs.maskFisher || m.needs.fullFisher,
    )
    .map((m) => m.name);
}

/**
 * The chosen method's options given on the command line (the rest take the spec's defaults in
 * merge()); a flag given for another method is a warning.
 */
export function methodOptionsFromCli(
  method: string,
  opts: Record<string, unknown>,
  command: Command,
  warn: (message: string) => void,
): Record<string, OptionValue> {
  const spec = mergeMethod(method);
  const mine = new Set(spec.options.map((o) => o.flag).filter(Boolean));
  const out: Record<string, OptionValue> = {};
  for (const f of methodFlags()) {
    const attr = attributeOf(f.flag);
    if (command.getOptionValueSource(attr) !== 'cli' || opts[attr] === undefined) continue;
    if (!mine.has(f.flag)) {
      warn(`${f.flag} applies to ${f.methods.join(', ')} only; ignored for ${method}`);
      continue;
    }
    out[f.key] = opts[attr] as OptionValue;
  }
  return out;
}

/** A run configuration's method entry: its options by config key, type-checked (validated by merge()). */
export function methodOptionsFromConfig(
  spec: MergeMethodSpec,
  entry: Record<string, unknown>,
  fail: (message: string) => FmnError,
): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const o of spec.options) {
    const key = o.configKey === undefined ? o.key : o.configKey;
    if (key === null) continue;
    const v = entry[key];
    if (v === undefined || v === null) continue;
    const ok =
      o.type === 'boolean'
        ? typeof v === 'boolean'
        : o.type === 'choice'
          ? typeof v === 'string' && (o.choices ?? []).includes(v)
          : typeof v === 'number' &&
            Number.isFinite(v) &&
            (o.type !== 'integer' || (Number.isInteger(v) && v >= 0));
    if (!ok) {
      const want =
        o.type === 'boolean'
          ? 'true or false'
          : o.type === 'choice'
            ? (o.choices ?? []).join(' or ')
            : o.type === 'integer'
              ? 'an integer >= 0'
              : 'a number';
      throw fail(`"${key}" must be ${want}`);
    }
    out[o.key] = v as OptionValue;
  }
  return out;
}

/** The run-configuration keys of a method's options. */
export function configKeysOf(spec: MergeMethodSpec): string[] {
  return spec.options
    .map((o) => (o.configKey === undefined ? o.key : o.configKey))
    .filter((k): k is string => k !== null);
}
