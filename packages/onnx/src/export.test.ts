import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encoderParams, type ClassificationHead, type EncoderModel } from '@fmn/core';
import { FLAVOURS, expectClose, randomBatch, randomEncoder, referenceLogits } from '@fmn/testkit';
import { decodeModel } from './proto.js';
import { exportOnnx } from './export.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmn-onnx-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withHead(model: EncoderModel, head: ClassificationHead): EncoderModel {
  return { ...model, head };
}

describe.each(FLAVOURS)('exportOnnx (%s, two task heads)', (flavour) => {
  it('a fresh session on the exported file reproduces the float64 reference logits of every head', async () => {
    const model = randomEncoder(flavour, { seed: 21, numLabels: 3 });
    // a second task head of another width (a regression head), same names as the first head
    const other = randomEncoder(flavour, { seed: 22, numLabels: 1 }).head as ClassificationHead;
    const heads = [
      { name: 'task_a', head: model.head as ClassificationHead },
      { name: 'task_b', head: other },
    ];
    const path = join(dir, `${flavour}.onnx`);
    const written = await exportOnnx(model, path, { heads });
    expect(written.data).toBe(`${path}_data`);

    // weights live outside the protobuf
    const paramBytes =
      encoderParams(model).reduce((s, p) => s + p.data.byteLength, 0) +
      other.steps.reduce(
        (s, st) => s + st.linear.weight.data.byteLength + (st.linear.bias?.data.byteLength ?? 0),
        0,
      );
    expect((await stat(`${path}_data`)).size).toBeGreaterThanOrEqual(paramBytes);
    expect((await stat(path)).size).toBeLessThan(paramBytes);

    const session = await ort.InferenceSession.create(path);
    try {
      const hasTypes = flavour !== 'distilbert';
      expect([...session.inputNames].sort()).toEqual(
        (hasTypes
          ? ['attention_mask', 'input_ids', 'token_type_ids']
          : ['attention_mask', 'input_ids']
        ).sort(),
      );
      expect([...session.outputNames]).toEqual(['task_a', 'task_b']);
      const batch = randomBatch(model, { seed: 4, size: 3, seqLen: 9 });
      const dims = [batch.size, batch.seqLen];
      const i64 = (a: Int32Array) =>
        new ort.Tensor(
          'int64',
          BigInt64Array.from(a, (x) => BigInt(x)),
          dims,
        );
      const feeds: Record<string, ort.Tensor> = {
        input_ids: i64(batch.inputIds),
        attention_mask: i64(batch.attentionMask),
      };
      if (hasTypes) feeds.token_type_ids = i64(batch.tokenTypeIds!);
      const out = await session.run(feeds);
      for (const { name, head } of heads) {
        expect(Array.from(out[name].dims)).toEqual([batch.size, head.numLabels]);
        expectClose(
          out[name].data as Float32Array,
          referenceLogits(withHead(model, head), batch),
          1e-4,
          0,
          `${name} logits`,
        );
      }
    } finally {
      await session.release();
    }
  });
});

describe('exportOnnx input checks', () => {
  it('rejects duplicate head names and a model without heads, naming the file', async () => {
    const model = randomEncoder('bert', { seed: 1 });
    const head = model.head as ClassificationHead;
    const path = join(dir, 'bad.onnx');
    await expect(
      exportOnnx(model, path, {
        heads: [
          { name: 'x', head },
          { name: 'x', head },
        ],
      }),
    ).rejects.toThrow(/bad\.onnx: head name "x" is used twice/);
    await expect(exportOnnx(randomEncoder('bert', { numLabels: 0 }), path)).rejects.toThrow(
      /bad\.onnx: nothing to export/,
    );
  });
});

/** Logits of `path` in a fresh onnxruntime session on a random BERT batch. */
async function runBert(
  path: string,
  model: EncoderModel,
): Promise<{ logits: Float32Array; want: Float64Array }> {
  const batch = randomBatch(model, { seed: 5, size: 2, seqLen: 7 });
  const dims = [batch.size, batch.seqLen];
  const i64 = (a: Int32Array) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(a, (x) => BigInt(x)),
      dims,
    );
  const session = await ort.InferenceSession.create(path);
  try {
    const out = await session.run({
      input_ids: i64(batch.inputIds),
      attention_mask: i64(batch.attentionMask),
      token_type_ids: i64(batch.tokenTypeIds!),
    });
    return {
      logits: out.logits.data as Float32Array,
      want: Float64Array.from(referenceLogits(model, batch)),
    };
  } finally {
    await session.release();
  }
}

/** The external-data locations the initializers of a serialised model name. */
function locations(bytes: Uint8Array): string[] {
  const m = decodeModel(bytes) as {
    graph: { initializer: { externalData?: { key: string; value: string }[] }[] };
  };
  const out = new Set<string>();
  for (const t of m.graph.initializer)
    for (const e of t.externalData ?? []) if (e.key === 'location') out.add(e.value);
  return [...out];
}

describe('exportOnnx weights placement', () => {
  const model = randomEncoder('bert', { seed: 31, numLabels: 2 });
  const paramBytes = encoderParams(model).reduce((s, p) => s + p.data.byteLength, 0);

  it("'inline' writes one self-contained file (output logits) that still runs after a rename", async () => {
    const path = join(dir, 'inline', 'model.onnx');
    await mkdir(join(dir, 'inline'), { recursive: true });
    const written = await exportOnnx(model, path, { weights: 'inline' });
    expect(written).toEqual({ model: path });
    await expect(stat(`${path}_data`)).rejects.toThrow(/ENOENT/);
    expect((await stat(path)).size).toBeGreaterThan(paramBytes);
    expect(locations(await readFile(path))).toEqual([]);
    const moved = join(dir, 'inline', 'renamed.onnx');
    await rename(path, moved);
    const { logits, want } = await runBert(moved, model);
    expectClose(logits, want, 1e-4, 0, 'inline logits');
  });

  it("'auto' keeps weights inside up to maxInlineBytes, and puts them outside above it", async () => {
    const small = join(dir, 'auto-in.onnx');
    expect(await exportOnnx(model, small, { weights: 'auto', maxInlineBytes: paramBytes })).toEqual({
      model: small,
    });
    const big = join(dir, 'auto-out.onnx');
    expect(await exportOnnx(model, big, { weights: 'auto', maxInlineBytes: paramBytes - 1 })).toEqual({
      model: big,
      data: `${big}_data`,
    });
    expect((await stat(`${big}_data`)).size).toBeGreaterThanOrEqual(paramBytes);
  });

  it("'inline' above maxInlineBytes is refused, naming the file", async () => {
    await expect(
      exportOnnx(model, join(dir, 'too-big.onnx'), { weights: 'inline', maxInlineBytes: 1000 }),
    ).rejects.toThrow(/too-big\.onnx: the weights \(\d+ bytes\) do not fit inside one \.onnx file/);
  });

  it('external data is named relative to the graph: the folder can move', async () => {
    const a = join(dir, 'ext-a');
    await mkdir(a, { recursive: true });
    await exportOnnx(model, join(a, 'model.onnx'));
    expect(locations(await readFile(join(a, 'model.onnx')))).toEqual(['model.onnx_data']);
    const b = join(dir, 'ext-b-moved');
    await rename(a, b);
    const { logits, want } = await runBert(join(b, 'model.onnx'), model);
    expectClose(logits, want, 1e-4, 0, 'moved external-data logits');
  });
});
