/**
 * A graph serialised for a runtime that takes external data in memory (onnxruntime-node and
 * onnxruntime-web's `externalData` session option): the protobuf without the weights, and one
 * named buffer per external initializer, a view of the model's own array (no copy).
 */
import type { Graph, Value } from './graph.js';

export interface InMemoryExternalData {
  /** the ModelProto, its external initializers pointing at `files` */
  readonly bytes: Uint8Array;
  /** one entry per external initializer: the location the protobuf names, and its bytes */
  readonly files: { path: string; data: Uint8Array }[];
}

export function externalDataOf(graph: Graph): InMemoryExternalData {
  const files: { path: string; data: Uint8Array }[] = [];
  const where = new Map<number, string>();
  const bytes = graph.toModel((v: Value) => {
    let path = where.get(v.id);
    if (!path) {
      path = `w${where.size}.bin`;
      where.set(v.id, path);
      const d = v.init!.data;
      files.push({ path, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
    }
    return { location: path, offset: 0 };
  });
  return { bytes, files };
}
