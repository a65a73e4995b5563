import { open, stat, type FileHandle } from 'node:fs/promises';
import { FmnError } from './errors.js';
import { DTYPE_SIZE, isDType, numel, toFloat32, type DType, type RawTensor } from './tensor.js';
import { atomicFile } from './atomic.js';
import { checkRowRange, rowSize, rowsShape, type RowRange } from './rows.js';

/** Largest JSON header fmn accepts (the safetensors reference uses the same bound). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Most tensors one safetensors file may list (a BERT-large checkpoint has ~400). */
export const MAX_TENSORS = 1_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte offsets relative to the start of the data section: [begin, end). */
  readonly begin: number;
  readonly end: number;
}

/**
 * Finds the first duplicate key of any JSON object in `text` (JSON.parse silently keeps the last
 * one). Returns the key and the top-level key it sits under (undefined for a top-level key, i.e.
 * a tensor name). Assumes `text` already parsed as valid JSON.
 */
export function findDuplicateKey(text: string): { key: string; under?: string } | undefined {
  interface Frame {
    keys?: Set<string>;
    expectKey: boolean;
  }
  const stack: Frame[] = [];
  let topKey: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return stack.length === 1 ? { key } : { key, under: topKey };
        top.keys.add(key);
        top.expectKey = false;
        if (stack.length === 1) topKey = key;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
    i++;
  }
  return undefined;
}

/**
 * Parses and validates a safetensors header against the size of the data section.
 * Every problem is an FmnError naming `file`.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  file: string,
  maxTensors = MAX_TENSORS,
): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new FmnError('corrupt safetensors: the header is not valid UTF-8', file);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FmnError(`corrupt safetensors: the header is not valid JSON (${(e as Error).message})`, file);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new FmnError('corrupt safetensors: the header is not a JSON object', file);
  }
  const entries = Object.entries(header as Record<string, unknown>);
  const count = entries.length - (Object.hasOwn(header, '__metadata__') ? 1 : 0);
  if (count > maxTensors) {
    throw new FmnError(
      `corrupt safetensors: the header lists ${count} tensors, above the limit of ${maxTensors}`,
      file,
    );
  }
  const dup = findDuplicateKey(text);
  if (dup) {
    throw new FmnError(
      dup.under === undefined
        ? `corrupt safetensors: duplicate tensor name "${dup.key}"`
        : `corrupt safetensors: duplicate key "${dup.key}" in the header entry "${dup.under}"`,
      file,
    );
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (value === null) continue; // the reference writer's "no metadata"
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new FmnError('corrupt safetensors: __metadata__ is not an object', file);
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string')
          throw new FmnError(`corrupt safetensors: metadata "${k}" is not a string`, file);
        // defineProperty: a key named __proto__ is kept as data, never taken as the prototype
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new FmnError(`corrupt safetensors: entry for "${name}" is not an object`, file);
    }
    if (!isDType(entry.dtype)) {
      throw new FmnError(
        `unknown dtype ${JSON.stringify(entry.dtype)} for tensor "${name}" (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
        file,
      );
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FmnError(
        `corrupt safetensors: invalid shape ${JSON.stringify(shape)} for tensor "${name}"`,
        file,
      );
    }
    const offs = entry.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FmnError(
        `corrupt safetensors: invalid data_offsets ${JSON.stringify(offs)} for tensor "${name}"`,
        file,
      );
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) {
      throw new FmnError(
        `corrupt safetensors: data_offsets of "${name}" are out of order (${begin} > ${end})`,
        file,
      );
    }
    if (end > dataBytes) {
      throw new FmnError(
        `corrupt safetensors: tensor "${name}" lies outside the data section (ends at ${end}, data section has ${dataBytes} bytes)`,
        file,
      );
    }
    const expected = numel(shape) * DTYPE_SIZE[entry.dtype];
    if (end - begin !== expected) {
      throw new FmnError(
        `corrupt safetensors: tensor "${name}" has ${end - begin} bytes but ${entry.dtype} x [${shape.join(', ')}] needs ${expected}`,
        file,
      );
    }
    tensors.push({ name, dtype: entry.dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let last: TensorInfo | undefined;
  for (const cur of sorted) {
    if (cur.end === cur.begin) continue;
    if (last && cur.begin < last.end) {
      throw new FmnError(`corrupt safetensors: tensors "${last.name}" and "${cur.name}" overlap`, file);
    }
    if (!last || cur.end > last.end) last = cur;
  }
  return { tensors, metadata };
}

/** Largest single read or write: Node refuses more than 2 GiB - 1 per call. */
const IO_CHUNK = 1 << 30;

/** Reads exactly `len` bytes at `position` into `buf` (loops over short reads), or fails at end of file. */
async function readFully(
  handle: FileHandle,
  buf: Uint8Array,
  position: number,
  file: string,
  what: string,
): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const want = Math.min(buf.byteLength - done, IO_CHUNK);
    const { bytesRead } = await handle.read(buf, done, want, position + done);
    if (bytesRead === 0) throw new FmnError(`unexpected end of file while reading ${what}`, file);
    done += bytesRead;
  }
}

/** Writes all of `bytes` at the current position (loops over short writes, in chunks below 2 GiB). */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const want = Math.min(bytes.byteLength - done, IO_CHUNK);
    const { bytesWritten } = await handle.write(bytes, done, want);
    done += bytesWritten;
  }
}

/**
 * A safetensors file opened lazily: the header is read and validated at open; each tensor is read
 * on demand by one positional read of exactly its bytes.
 */
export class SafetensorsFile {
  /** Bytes read from disk through this handle so far (header included). */
  bytesRead = 0;
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly dataStart: number,
    private readonly infos: Map<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
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
      if (!st.isFile()) throw new FmnError('not a file (expected a .safetensors file)', path);
      const size = st.size;
      if (size < 8)
        throw new FmnError(`corrupt safetensors: file has ${size} bytes, too small for a header`, path);
      const lenBuf = new Uint8Array(8);
      await readFully(handle, lenBuf, 0, path, 'the header length');
      const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
      if (n > BigInt(MAX_HEADER_BYTES)) {
        throw new FmnError(
          `corrupt safetensors: header length ${n} is above the ${MAX_HEADER_BYTES}-byte limit`,
          path,
        );
      }
      if (n > BigInt(size - 8)) {
        throw new FmnError(
          `corrupt safetensors: header length ${n} goes beyond the end of the file (${size} bytes)`,
          path,
        );
      }
      const headerLen = Number(n);
      const headerBytes = new Uint8Array(headerLen);
      await readFully(handle, headerBytes, 8, path, 'the header');
      const { tensors, metadata } = parseSafetensorsHeader(headerBytes, size - 8 - headerLen, path);
      const file = new SafetensorsFile(
        path,
        handle,
        8 + headerLen,
        new Map(tensors.map((t) => [t.name, t])),
        metadata,
      );
      file.bytesRead = 8 + headerLen;
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

  info(name: string): TensorInfo {
    const info = this.infos.get(name);
    if (!info) throw new FmnError(`no tensor named "${name}"`, this.path);
    return info;
  }

  async read(name: string): Promise<RawTensor> {
    const info = this.info(name);
    const len = info.end - info.begin;
    const bytes = new Uint8Array(len);
    await readFully(this.handle, bytes, this.dataStart + info.begin, this.path, `tensor "${name}"`);
    this.bytesRead += len;
    return { dtype: info.dtype, shape: info.shape, bytes };
  }

  /**
   * Reads rows [start, end) of a tensor (./rows.ts) by one positional read of exactly their bytes:
   * a large tensor can be processed a block of rows at a time without ever being whole in memory.
   */
  async readRows(name: string, rows: RowRange): Promise<RawTensor> {
    const info = this.info(name);
    checkRowRange(info.shape, rows, `tensor "${name}"`, this.path);
    const rowBytes = rowSize(info.shape) * DTYPE_SIZE[info.dtype];
    const bytes = new Uint8Array((rows.end - rows.start) * rowBytes);
    const at = this.dataStart + info.begin + rows.start * rowBytes;
    await readFully(this.handle, bytes, at, this.path, `rows ${rows.start}..${rows.end} of tensor "${name}"`);
    this.bytesRead += bytes.byteLength;
    return { dtype: info.dtype, shape: rowsShape(info.shape, rows), bytes };
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return toFloat32(await this.read(name));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * One tensor to write: its bytes may be produced lazily, when the writer reaches it, either whole
 * or as consecutive pieces (an async iterable), so that a large tensor need never be whole in memory.
 */
export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array | (() => Uint8Array | Promise<Uint8Array> | AsyncIterable<Uint8Array>);
}

/**
 * Writes a safetensors file: header first (offsets follow from dtypes and shapes), then each tensor's
 * bytes in turn, so only one tensor need be in memory at a time. The file is written to a temp
 * file beside `path` and renamed at the end.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<void> {
  const header = Object.create(null) as Record<string, unknown>; // so "__proto__" is a plain name
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new FmnError(`cannot write safetensors: metadata "${k}" is not a string`, path);
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const lengths: number[] = [];
  for (const t of tensors) {
    if (t.name === '__metadata__')
      throw new FmnError('cannot write safetensors: "__metadata__" is not a valid tensor name', path);
    if (Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new FmnError(`cannot write safetensors: duplicate tensor name "${t.name}"`, path);
    }
    if (!isDType(t.dtype))
      throw new FmnError(
        `cannot write safetensors: unknown dtype ${JSON.stringify(t.dtype)} for "${t.name}"`,
        path,
      );
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FmnError(
        `cannot write safetensors: invalid shape ${JSON.stringify(t.shape)} for "${t.name}"`,
        path,
      );
    }
    const len = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (!Number.isSafeInteger(len))
      throw new FmnError(`cannot write safetensors: tensor "${t.name}" is too large`, path);
    if (typeof t.data !== 'function' && t.data.byteLength !== len) {
      throw new FmnError(
        `cannot write safetensors: tensor "${t.name}" has ${t.data.byteLength} bytes, but ${t.dtype} x [${t.shape.join(', ')}] needs ${len}`,
        path,
      );
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    lengths.push(len);
    offset += len;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw new FmnError(
      `cannot write safetensors: the header would be ${headerBytes.length} bytes, above the limit`,
      path,
    );
  }
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  await atomicFile(path, async (fh) => {
    await writeFully(fh, prefix);
    await writeFully(fh, headerBytes);
    for (const [i, t] of tensors.entries()) {
      const data = typeof t.data === 'function' ? await t.data() : t.data;
      const wrongSize = (n: string): FmnError =>
        new FmnError(
          `cannot write safetensors: tensor "${t.name}" has ${n} bytes, but ${t.dtype} x [${t.shape.join(', ')}] needs ${lengths[i]}`,
          path,
        );
      if (data instanceof Uint8Array) {
        if (data.byteLength !== lengths[i]) throw wrongSize(String(data.byteLength));
        await writeFully(fh, data);
        continue;
      }
      // pieces: each is checked against what is left before it is written
      let written = 0;
      for await (const piece of data) {
        if (written + piece.byteLength > lengths[i]) throw wrongSize(`more than ${lengths[i]}`);
        await writeFully(fh, piece);
        written += piece.byteLength;
      }
      if (written !== lengths[i]) throw wrongSize(String(written));
    }
  });
}

/** Size in bytes of a file, or undefined when it does not exist. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
