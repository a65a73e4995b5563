/**
 * The batched full diagonal Fisher on ONNX Runtime: runs chunks of a batch through the
 * per-example-squared-gradient graph of @fmn/onnx and sums its outputs per parameter; embedding
 * tables come back as per-token gradients and are squared per example here (a sparse scatter).
 */
import type * as ort from 'onnxruntime-node';
import { encoderParams, type Batch, type EncoderModel } from '@fmn/core';
import { accumulateEmbeddingSquares, perExampleSquaredGradientGraph, type PerExampleGraph } from '@fmn/onnx';

export class BatchedFullFisher {
  private built?: PerExampleGraph;
  private session?: Promise<ort.InferenceSession>;

  constructor(
    private readonly model: EncoderModel,
    private readonly create: (graph: PerExampleGraph['graph']) => Promise<ort.InferenceSession>,
  ) {}

  /** Sums, per parameter name, the squared per-example gradients of every example of `chunks`. */
  async run(
    chunks: Batch[],
    feeds: (b: Batch) => Record<string, ort.Tensor>,
  ): Promise<Map<string, Float32Array>> {
    this.built ??= perExampleSquaredGradientGraph(this.model);
    const { graph, outputs } = this.built;
    this.session ??= this.create(graph);
    const s = await this.session;
    const params = encoderParams(this.model);
    const sums = params.map((p) => new Float32Array(p.data.length));
    for (const b of chunks) {
      const out = await s.run(feeds(b));
      outputs.forEach((o, k) => {
        const acc = sums[k];
        if (o.kind === 'dense') {
          const sq = out[o.name].data as Float32Array;
          for (let j = 0; j < acc.length; j++) acc[j] += sq[j];
        } else if (o.kind === 'embedding') {
          const E = params[k].shape[params[k].shape.length - 1];
          accumulateEmbeddingSquares(
            acc,
            out[o.grad].data as Float32Array,
            out[o.indices].data as BigInt64Array,
            b.size,
            b.seqLen,
            E,
            o.broadcast,
          );
        }
      });
    }
    return new Map(params.map((p, k) => [p.name, sums[k]]));
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await (await s?.catch(() => undefined))?.release();
  }
}
