import type { FileHandle } from 'node:fs/promises';
import { FmnError } from '../errors.js';

/**
 * The central directory of a zip file, read by positional reads (end record, then the directory):
 * enough to find each entry's bytes without reading the archive. Only stored (uncompressed)
 * entries can be read, which is how torch.save writes them.
 */

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored; anything else is compressed */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** largest central directory fmn reads (a BERT checkpoint's has a few hundred entries) */
const MAX_DIRECTORY_BYTES = 64 << 20;

export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
  file: string,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, Math.min(length - done, 1 << 30), position + done);
    if (bytesRead === 0) throw new FmnError(`unexpected end of file at byte ${position + done}`, file);
    done += bytesRead;
  }
  return buf;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(view: DataView, at: number, file: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FmnError('corrupt zip: a 64-bit size is out of range', file);
  return Number(v);
}

/** Reads the central directory of the zip at `handle` (`size` bytes). */
export async function readZipDirectory(handle: FileHandle, size: number, file: string): Promise<ZipEntry[]> {
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(handle, size - tailLen, tailLen, file);
  const tv = dv(tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FmnError('corrupt zip: no end-of-central-directory record', file);
  let count = tv.getUint16(eocd + 10, true);
  let dirSize = tv.getUint32(eocd + 12, true);
  let dirOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== ZIP64_LOCATOR_SIG)
      throw new FmnError('corrupt zip: a ZIP64 archive without its locator', file);
    const recOffset = u64(tv, loc + 8, file);
    if (recOffset + 56 > size)
      throw new FmnError('corrupt zip: the ZIP64 record lies outside the file', file);
    const rec = dv(await readAt(handle, recOffset, 56, file));
    if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new FmnError('corrupt zip: bad ZIP64 record', file);
    count = u64(rec, 32, file);
    dirSize = u64(rec, 40, file);
    dirOffset = u64(rec, 48, file);
  }
  if (dirOffset + dirSize > size)
    throw new FmnError('corrupt zip: the central directory lies outside the file', file);
  if (dirSize > MAX_DIRECTORY_BYTES)
    throw new FmnError(`corrupt zip: a central directory of ${dirSize} bytes is above the limit`, file);
  const dir = await readAt(handle, dirOffset, dirSize, file);
  const v = dv(dir);
  const entries: ZipEntry[] = [];
  const names = new TextDecoder('utf-8');
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dirSize || v.getUint32(p, true) !== CENTRAL_SIG)
      throw new FmnError(`corrupt zip: central directory entry ${i} is malformed`, file);
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let entrySize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > dirSize)
      throw new FmnError(`corrupt zip: central directory entry ${i} runs past the directory`, file);
    const name = names.decode(dir.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 64-bit values of the fields that are all ones, in order
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) throw new FmnError(`corrupt zip: short ZIP64 field for "${name}"`, file);
          const val = u64(v, q, file);
          q += 8;
          return val;
        };
        if (entrySize === 0xffffffff) entrySize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size: entrySize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * Where an entry's bytes start (after its local header), checked to lie inside the file; the entry
 * must be stored, not compressed.
 */
export async function zipEntryDataOffset(
  handle: FileHandle,
  fileSize: number,
  entry: ZipEntry,
  file: string,
): Promise<number> {
  if (entry.method !== 0)
    throw new FmnError(
      `zip entry "${entry.name}" is compressed (method ${entry.method}); fmn reads only stored entries, as torch.save writes them (re-save the checkpoint with torch.save)`,
      file,
    );
  if (entry.localHeaderOffset + 30 > fileSize)
    throw new FmnError(`corrupt zip: the local header of "${entry.name}" lies outside the file`, file);
  const h = dv(await readAt(handle, entry.localHeaderOffset, 30, file));
  if (h.getUint32(0, true) !== LOCAL_SIG)
    throw new FmnError(`corrupt zip: bad local header for "${entry.name}"`, file);
  const start = entry.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  if (start + entry.size > fileSize)
    throw new FmnError(
      `corrupt zip: entry "${entry.name}" (${entry.size} bytes at ${start}) goes beyond the end of the file (${fileSize} bytes)`,
      file,
    );
  return start;
}
