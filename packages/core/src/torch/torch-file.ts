import { open, type FileHandle } from 'node:fs/promises';
import { FmnError } from '../errors.js';
import type { TensorInfo } from '../safetensors.js';
import { DTYPE_SIZE, toFloat32, type DType, type RawTensor } from '../tensor.js';
import { isStorageType, torchGlobals, TorchTensor, type StorageRef } from './globals.js';
import { PickleTruncated, PyDict, PyTuple, unpickle, type PyGlobal } from './pickle.js';
import { gatherView, isContiguous, viewNumel, viewSpan } from './strided.js';
import { readAt, readZipDirectory, zipEntryDataOffset } from './zip.js';

/** torch.save's legacy-format magic number and protocol version. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** largest data.pkl fmn reads (a BERT-large state dict's is well under 1 MB) */
const MAX_PICKLE_BYTES = 256 << 20;

/** Where a tensor's bytes are: `begin`/`end` are absolute file offsets of the storage span it views. */
export interface TorchTensorInfo extends TensorInfo {
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

interface StorageUse {
  dtype: DType;
  /** elements the references need (root numel) */
  numel: number;
}

interface Parsed {
  top: unknown;
  storages: Map<string, StorageUse>;
}

function collectStorages(
  file: string,
  legacy: boolean,
): {
  storages: Map<string, StorageUse>;
  persistentLoad: (pid: unknown) => StorageRef;
} {
  const storages = new Map<string, StorageUse>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const items = pid instanceof PyTuple ? pid.items : undefined;
    if (!items || items[0] !== 'storage' || items.length < 5)
      throw new FmnError('corrupt checkpoint: a persistent id that is not a storage reference', file);
    const [, type, key, , numel, viewMeta] = items;
    if (!isStorageType(type)) {
      const g = type as PyGlobal | undefined;
      throw new FmnError(
        `unsupported storage type${g?.name ? ` torch.${g.name}` : ''}: fmn reads float32, float16, bfloat16, float64 and integer tensors`,
        file,
      );
    }
    if (typeof key !== 'string' || key === '' || /[\\/]/.test(key) || key.includes('..'))
      throw new FmnError(`corrupt checkpoint: storage key ${JSON.stringify(key)}`, file);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      throw new FmnError(`corrupt checkpoint: storage "${key}" has an invalid size`, file);
    const prev = storages.get(key);
    if (prev && prev.dtype !== type.dtype)
      throw new FmnError(
        `corrupt checkpoint: storage "${key}" is read as both ${prev.dtype} and ${type.dtype}`,
        file,
      );
    storages.set(key, { dtype: type.dtype, numel: Math.max(numel, prev?.numel ?? 0) });
    if (legacy && viewMeta instanceof PyTuple) {
      // an old-style storage view: (view_key, offset, view_size) into the root storage `key`
      const [, off, len] = viewMeta.items;
      if (typeof off !== 'number' || typeof len !== 'number' || off < 0 || len < 0 || off + len > numel)
        throw new FmnError(`corrupt checkpoint: a storage view outside storage "${key}"`, file);
      return { key, dtype: type.dtype, numel: len, viewOffset: off };
    }
    return { key, dtype: type.dtype, numel, viewOffset: 0 };
  };
  return { storages, persistentLoad };
}

/**
 * A PyTorch checkpoint (torch.save of a state dict) opened safely and lazily: the pickle is decoded
 * by a restricted unpickler that executes nothing; each tensor is read on demand by one positional
 * read of the storage bytes it views. Both torch's zip format and the legacy format.
 */
export class TorchFile {
  bytesRead = 0;
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly infos: Map<string, TorchTensorInfo>,
    readonly format: 'zip' | 'legacy',
  ) {}

  static async open(path: string): Promise<TorchFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FmnError(
        code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? (e as Error).message})`,
        path,
      );
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new FmnError('not a file (expected a PyTorch checkpoint)', path);
      const size = st.size;
      if (size < 4) throw new FmnError(`not a PyTorch checkpoint: the file has ${size} bytes`, path);
      const head = await readAt(handle, 0, 4, path);
      let bytesRead = 4;
      let format: 'zip' | 'legacy';
      let parsed: Parsed;
      let dataStart: Map<string, number>;
      if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
        format = 'zip';
        ({ parsed, dataStart, bytesRead } = await openZip(handle, size, path));
      } else if (head[0] === 0x80) {
        format = 'legacy';
        ({ parsed, dataStart, bytesRead } = await openLegacy(handle, size, path));
      } else {
        throw new FmnError(
          "not a PyTorch checkpoint (neither torch's zip format nor its legacy pickle format)",
          path,
        );
      }
      const infos = tensorInfos(parsed.top, dataStart, path);
      const file = new TorchFile(path, handle, infos, format);
      file.bytesRead = bytesRead;
      return file;
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.infos.keys()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): TorchTensorInfo {
    const info = this.infos.get(name);
    if (!info) throw new FmnError(`no tensor named "${name}"`, this.path);
    return info;
  }

  async read(name: string): Promise<RawTensor> {
    const info = this.info(name);
    const elem = DTYPE_SIZE[info.dtype];
    if (viewNumel(info.size) === 0) return { dtype: info.dtype, shape: info.shape, bytes: new Uint8Array(0) };
    const span = await readAt(this.handle, info.begin, info.end - info.begin, this.path);
    this.bytesRead += span.byteLength;
    const bytes = isContiguous(info.size, info.stride)
      ? span
      : gatherView(span, info.size, info.stride, elem);
    return { dtype: info.dtype, shape: info.shape, bytes };
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return toFloat32(await this.read(name));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function tensorInfos(
  top: unknown,
  dataStart: Map<string, number>,
  file: string,
): Map<string, TorchTensorInfo> {
  if (!(top instanceof PyDict))
    throw new FmnError(
      'not a state dict: the checkpoint holds no dict of tensors (save model.state_dict())',
      file,
    );
  const infos = new Map<string, TorchTensorInfo>();
  for (const [name, value] of top.map) {
    if (typeof name !== 'string') throw new FmnError('not a state dict: a key is not a string', file);
    if (value instanceof PyDict && [...value.map.values()].some((v) => v instanceof TorchTensor))
      throw new FmnError(
        `not a flat state dict: "${name}" holds a dict of tensors (fmn reads torch.save(model.state_dict()))`,
        file,
      );
    if (!(value instanceof TorchTensor)) continue; // plain values beside the tensors
    const { storage, offset, size, stride } = value;
    const elem = DTYPE_SIZE[storage.dtype];
    const n = viewNumel(size);
    if (!Number.isSafeInteger(n * elem)) throw new FmnError(`tensor "${name}" is too large`, file);
    let begin = dataStart.get(storage.key)!;
    let end = begin;
    if (n > 0) {
      const [a, b] = viewSpan(offset, size, stride);
      if (b > storage.numel)
        throw new FmnError(
          `corrupt checkpoint: tensor "${name}" views elements up to ${b} of storage "${storage.key}", which has ${storage.numel}`,
          file,
        );
      begin += (storage.viewOffset + a) * elem;
      end = begin + (b - a) * elem;
    }
    infos.set(name, { name, dtype: storage.dtype, shape: size, size, stride, begin, end });
  }
  if (infos.size === 0) throw new FmnError('not a state dict: the checkpoint holds no tensors', file);
  return infos;
}

async function openZip(
  handle: FileHandle,
  size: number,
  file: string,
): Promise<{ parsed: Parsed; dataStart: Map<string, number>; bytesRead: number }> {
  const entries = await readZipDirectory(handle, size, file);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pkl)
    throw new FmnError(
      'not a PyTorch checkpoint: the zip has no <archive>/data.pkl (a TorchScript file?)',
      file,
    );
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  let bytesRead = 0;
  const readEntry = async (name: string, limit: number): Promise<Uint8Array> => {
    const e = byName.get(name)!;
    if (e.size > limit) throw new FmnError(`zip entry "${name}" has ${e.size} bytes, above the limit`, file);
    const at = await zipEntryDataOffset(handle, size, e, file);
    bytesRead += e.size;
    return readAt(handle, at, e.size, file);
  };
  if (byName.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(await readEntry(`${prefix}byteorder`, 16));
    if (order !== 'little')
      throw new FmnError(`checkpoint is ${order}-endian; fmn reads little-endian ones`, file);
  }
  const { storages, persistentLoad } = collectStorages(file, false);
  const bytes = await readEntry(pkl.name, MAX_PICKLE_BYTES);
  let top: unknown;
  try {
    top = unpickle(bytes, { file, globals: torchGlobals(file), persistentLoad, what: pkl.name }).value;
  } catch (e) {
    if (e instanceof PickleTruncated)
      throw new FmnError(`corrupt checkpoint: ${pkl.name} ends before STOP`, file);
    throw e;
  }
  const dataStart = new Map<string, number>();
  for (const [key, use] of storages) {
    const e = byName.get(`${prefix}data/${key}`);
    if (!e)
      throw new FmnError(`corrupt checkpoint: storage "${key}" has no entry ${prefix}data/${key}`, file);
    const need = use.numel * DTYPE_SIZE[use.dtype];
    if (e.size < need)
      throw new FmnError(
        `corrupt checkpoint: storage "${key}" needs ${need} bytes (${use.numel} x ${use.dtype}) but its entry has ${e.size}`,
        file,
      );
    dataStart.set(key, await zipEntryDataOffset(handle, size, e, file));
    bytesRead += 30;
  }
  return { parsed: { top, storages }, dataStart, bytesRead };
}

async function openLegacy(
  handle: FileHandle,
  size: number,
  file: string,
): Promise<{ parsed: Parsed; dataStart: Map<string, number>; bytesRead: number }> {
  // The pickles come first and their length is not recorded: read a prefix, and a longer one if the
  // pickles do not end inside it. The storages after them are not read here.
  let len = Math.min(size, 1 << 16);
  for (;;) {
    const buf = await readAt(handle, 0, len, file);
    try {
      const r = parseLegacyPickles(buf, file);
      const dataStart = new Map<string, number>();
      let pos = r.end;
      for (const key of r.keys) {
        const use = r.storages.get(key);
        if (!use) throw new FmnError(`corrupt checkpoint: storage "${key}" is listed but never used`, file);
        if (pos + 8 > size)
          throw new FmnError(`corrupt checkpoint: storage "${key}" lies outside the file`, file);
        const n = new DataView((await readAt(handle, pos, 8, file)).buffer).getBigInt64(0, true);
        const elem = DTYPE_SIZE[use.dtype];
        if (n < BigInt(use.numel) || n * BigInt(elem) > BigInt(size - pos - 8))
          throw new FmnError(
            `corrupt checkpoint: storage "${key}" says ${n} elements, but its tensors need ${use.numel} and the file has ${size - pos - 8} bytes left`,
            file,
          );
        dataStart.set(key, pos + 8);
        pos += 8 + Number(n) * elem;
      }
      for (const key of r.storages.keys())
        if (!dataStart.has(key)) throw new FmnError(`corrupt checkpoint: storage "${key}" is missing`, file);
      return { parsed: { top: r.top, storages: r.storages }, dataStart, bytesRead: len + 8 * r.keys.length };
    } catch (e) {
      if (!(e instanceof PickleTruncated)) throw e;
      if (len >= size) throw new FmnError('corrupt checkpoint: the file ends inside its pickles', file);
      len = Math.min(size, len * 4);
    }
  }
}

function parseLegacyPickles(
  buf: Uint8Array,
  file: string,
): { top: unknown; storages: Map<string, StorageUse>; keys: string[]; end: number } {
  const none = new Map<string, PyGlobal>();
  const magic = unpickle(buf, { file, globals: none, what: 'magic number' });
  if (magic.value !== LEGACY_MAGIC)
    throw new FmnError("not a PyTorch checkpoint: a pickle, but without torch's magic number", file);
  const proto = unpickle(buf, { file, globals: none, what: 'protocol version' }, magic.end);
  if (proto.value !== LEGACY_PROTOCOL)
    throw new FmnError(
      `unsupported legacy checkpoint protocol ${String(proto.value)} (expected ${LEGACY_PROTOCOL})`,
      file,
    );
  const sys = unpickle(buf, { file, globals: none, what: 'sys info' }, proto.end);
  if (sys.value instanceof PyDict && sys.value.map.get('little_endian') === false)
    throw new FmnError('checkpoint is big-endian; fmn reads little-endian ones', file);
  const { storages, persistentLoad } = collectStorages(file, true);
  const main = unpickle(
    buf,
    { file, globals: torchGlobals(file), persistentLoad, what: 'state dict pickle' },
    sys.end,
  );
  const keys = unpickle(buf, { file, globals: none, what: 'storage keys' }, main.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string'))
    throw new FmnError('corrupt checkpoint: the storage key list is not a list of strings', file);
  return { top: main.value, storages, keys: keys.value as string[], end: keys.end };
}
