import { FmnError } from '../errors.js';

/**
 * A restricted unpickler: it decodes the pickle opcodes that state dicts use into plain values and
 * never imports or calls anything. A GLOBAL is looked up in an allow-list given by the caller; any
 * other global is an FmnError naming the file and the global, raised as soon as the opcode is met.
 * REDUCE / NEWOBJ apply only the allow-listed globals' own TypeScript stand-ins.
 */

/** A Python tuple (kept apart from lists so the state-dict reader can check shapes of arguments). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict or collections.OrderedDict with its items in insertion order. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`, ignored by fmn). */
  state: unknown = undefined;
}

/** An allow-listed global: `call` stands in for calling it (undefined: the global is a plain value). */
export interface PyGlobal {
  readonly module: string;
  readonly name: string;
  readonly call?: (args: readonly unknown[]) => unknown;
  /** what BUILD does on an object this global made (undefined: BUILD is refused) */
  readonly build?: (obj: unknown, state: unknown) => void;
}

export interface UnpickleOptions {
  /** named in every error */
  readonly file: string;
  /** `module.name` -> the global's stand-in; anything not here is refused */
  readonly globals: ReadonlyMap<string, PyGlobal>;
  /** BINPERSID: torch's storage references */
  readonly persistentLoad?: (pid: unknown) => unknown;
  /** what this pickle is, for errors (e.g. "data.pkl") */
  readonly what?: string;
}

/** The pickle ended before STOP; `unpickle` throws it so a caller reading a prefix can read more. */
export class PickleTruncated extends Error {}

/** The largest string, bytes or LONG4 a pickle may declare before fmn refuses it. */
const MAX_ITEM_BYTES = 1 << 30;

function isPyGlobal(v: unknown): v is PyGlobal {
  return typeof v === 'object' && v !== null && 'module' in v && 'name' in v && !(v instanceof PyDict);
}

/** Decodes little-endian two's-complement bytes (LONG1 / LONG4) to a number when safe, else a bigint. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Unpickles `bytes` from `start`; returns the value and the position after STOP.
 * Throws PickleTruncated if the bytes end first, FmnError for anything refused or malformed.
 */
export function unpickle(
  bytes: Uint8Array,
  options: UnpickleOptions,
  start = 0,
): { value: unknown; end: number } {
  const { file } = options;
  const what = options.what ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = start;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const fail = (msg: string, at = pos): never => {
    throw new FmnError(`unsafe or corrupt ${what}: ${msg} (at byte ${at})`, file);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new PickleTruncated(`${what} ends before STOP`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(MAX_ITEM_BYTES)) fail(`a length of ${v} bytes is above the limit`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    if (n > MAX_ITEM_BYTES) fail(`a length of ${n} bytes is above the limit`);
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const str = (n: number): string => {
    const b = take(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const latin1 = (n: number): string => String.fromCharCode(...take(n));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleTruncated(`${what} ends before STOP`);
    const s = String.fromCharCode(...bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!))
      fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return fail('no MARK on the stack');
    return stack.splice(m);
  };
  const lookup = (module: string, name: string): PyGlobal => {
    const g = options.globals.get(`${module}.${name}`);
    if (!g)
      throw new FmnError(
        `refusing to load: the pickle (${what}) references the global "${module}.${name}", which is not allowed in a state dict (fmn loads only tensors, never code; nothing was executed)`,
        file,
      );
    return g;
  };
  const apply = (fn: unknown, args: unknown, op: string): unknown => {
    if (!isPyGlobal(fn) || !fn.call) return fail(`${op} on something that is not an allowed callable`);
    if (!(args instanceof PyTuple)) return fail(`${op} arguments are not a tuple`);
    const made = fn.call(args.items);
    if (typeof made === 'object' && made !== null) builders.set(made, fn);
    return made;
  };
  const builders = new WeakMap<object, PyGlobal>();
  const memoKey = (k: number): unknown => {
    if (!memo.has(k)) fail(`memo entry ${k} is not set`);
    return memo.get(k);
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as PyDict).map.set(items[i], items[i + 1]);
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail('APPEND(S) on something that is not a list');
    (list as unknown[]).push(...items);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5', at);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with a malformed stack', at);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        {
          const n = u32();
          if (n > 64) fail(`a LONG4 of ${n} bytes`, at);
          stack.push(decodeLong(take(n)));
        }
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str: torch's weights_only loader reads it as text)
        stack.push(latin1(u8()));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET (kept as a list: only ever data here)
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(lookup(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL on non-strings', at);
        stack.push(lookup(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(apply(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(apply(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const maker = typeof obj === 'object' && obj !== null ? builders.get(obj) : undefined;
        if (!maker?.build) fail('BUILD on an object that allows no state', at);
        maker!.build!(obj, state);
        break;
      }
      case 0x51: {
        // BINPERSID
        if (!options.persistentLoad) fail('a persistent id where none is expected', at);
        stack.push(options.persistentLoad!(pop()));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoKey(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoKey(u32()));
        break;
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not allowed in a state dict`, at);
    }
  }
}
