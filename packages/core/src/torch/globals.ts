import { FmnError } from '../errors.js';
import type { DType } from '../tensor.js';
import { PyDict, PyTuple, type PyGlobal } from './pickle.js';

/**
 * The globals a state dict may reference, with fmn's stand-ins for them: the same kinds that torch's
 * own `weights_only=True` loader allows (OrderedDict, the tensor and parameter rebuild functions,
 * the storage types, dtypes, torch.device, torch.Size). Nothing else is importable.
 */

/** A storage referenced by a persistent id: `key` names its bytes in the file. */
export interface StorageRef {
  readonly key: string;
  readonly dtype: DType;
  /** elements in the storage, as the pickle says (checked against the file before any read) */
  readonly numel: number;
  /** legacy format only: this storage is a view of its root storage from this element on */
  readonly viewOffset: number;
}

/** A tensor: a view (size, stride, offset in elements) of a storage. */
export class TorchTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** A storage type global (torch.FloatStorage, ...). */
export interface StorageType extends PyGlobal {
  readonly dtype: DType;
}

const STORAGE_TYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** Storage types torch also allows but fmn cannot read into its dtypes. */
const UNSUPPORTED_STORAGES = [
  'ComplexFloatStorage',
  'ComplexDoubleStorage',
  'QInt8Storage',
  'QUInt8Storage',
  'QInt32Storage',
];

const DTYPE_NAMES = [
  'float32',
  'float',
  'float16',
  'half',
  'bfloat16',
  'float64',
  'double',
  'int64',
  'long',
  'int32',
  'int',
  'int16',
  'short',
  'int8',
  'uint8',
  'bool',
  'complex64',
  'complex128',
];

export function isStorageType(v: unknown): v is StorageType {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'module' in v;
}

function nonNegInts(v: unknown, what: string, file: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items || !items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0))
    throw new FmnError(`corrupt checkpoint: tensor ${what} is not a tuple of non-negative integers`, file);
  return items as number[];
}

function rebuildTensor(args: readonly unknown[], file: string): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (typeof storage !== 'object' || storage === null || !('key' in storage))
    throw new FmnError('corrupt checkpoint: _rebuild_tensor_v2 without a storage', file);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new FmnError('corrupt checkpoint: tensor storage offset is not a non-negative integer', file);
  const sz = nonNegInts(size, 'size', file);
  const st = nonNegInts(stride, 'stride', file);
  if (sz.length !== st.length)
    throw new FmnError(`corrupt checkpoint: tensor size has ${sz.length} dims, stride ${st.length}`, file);
  return new TorchTensor(storage as StorageRef, offset, sz, st);
}

function asTensor(v: unknown, what: string, file: string): TorchTensor {
  if (!(v instanceof TorchTensor)) throw new FmnError(`corrupt checkpoint: ${what} of a non-tensor`, file);
  return v;
}

const ignoreState = (): void => undefined;

/** The allow-list for one file (stand-ins name `file` in their errors). */
export function torchGlobals(file: string): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  const add = (module: string, name: string, rest: Omit<PyGlobal, 'module' | 'name'> = {}): void => {
    g.set(`${module}.${name}`, { module, name, ...rest });
  };
  const newDict = (): PyDict => new PyDict();
  add('collections', 'OrderedDict', { call: newDict, build: (o, s) => ((o as PyDict).state = s) });
  add('collections', 'Counter', { call: newDict, build: (o, s) => ((o as PyDict).state = s) });
  add('torch._utils', '_rebuild_tensor_v2', { call: (a) => rebuildTensor(a, file), build: ignoreState });
  add('torch._utils', '_rebuild_tensor', { call: (a) => rebuildTensor(a, file), build: ignoreState });
  add('torch._utils', '_rebuild_parameter', {
    call: (a) => asTensor(a[0], 'Parameter', file),
    build: ignoreState,
  });
  add('torch._utils', '_rebuild_parameter_with_state', {
    call: (a) => asTensor(a[0], 'Parameter', file),
    build: ignoreState,
  });
  add('torch.nn.parameter', 'Parameter', {
    call: (a) => asTensor(a[0], 'Parameter', file),
    build: ignoreState,
  });
  add('torch', 'Tensor');
  add('torch._tensor', '_rebuild_from_type_v2', {
    // (func, new_type, args, state): rebuild with func (itself allow-listed) and keep a plain tensor
    call: (a) => {
      const [fn, , args] = a;
      const f = fn as PyGlobal | undefined;
      if (!f?.call || !(args instanceof PyTuple))
        throw new FmnError('corrupt checkpoint: _rebuild_from_type_v2 without a rebuild function', file);
      return asTensor(f.call(args.items), '_rebuild_from_type_v2', file);
    },
    build: ignoreState,
  });
  add('torch', 'Size', {
    call: (a) => new PyTuple(a[0] instanceof PyTuple ? a[0].items : Array.isArray(a[0]) ? a[0] : []),
  });
  add('torch', 'device', { call: (a) => ({ device: String(a[0]) }) });
  add('torch.serialization', '_get_layout', { call: (a) => ({ layout: String(a[0]) }) });
  add('_codecs', 'encode', {
    // protocol 2 writes bytes as _codecs.encode(text, 'latin1')
    call: (a) => {
      if (typeof a[0] !== 'string' || (a[1] !== 'latin1' && a[1] !== 'latin-1'))
        throw new FmnError('corrupt checkpoint: _codecs.encode other than latin1 text', file);
      return Uint8Array.from(a[0], (c) => c.charCodeAt(0) & 0xff);
    },
  });
  for (const d of DTYPE_NAMES) add('torch', d);
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
    g.set(`torch.${name}`, { module: 'torch', name, dtype } as StorageType);
  }
  for (const name of UNSUPPORTED_STORAGES) add('torch', name);
  const unsupported = (name: string): void =>
    add('torch._utils', name, {
      call: () => {
        throw new FmnError(
          `unsupported tensor kind (torch._utils.${name}): fmn reads dense tensors only`,
          file,
        );
      },
    });
  for (const n of [
    '_rebuild_sparse_tensor',
    '_rebuild_qtensor',
    '_rebuild_meta_tensor_no_storage',
    '_rebuild_nested_tensor',
  ])
    unsupported(n);
  return g;
}
