/**
 * A float64 backend on the reference implementation (reference.ts): slow, obviously written, and
 * the worked example of docs/adding-a-backend.md. Mask gradients are central finite differences
 * of the float64 loss; it offers no full Fisher and no training. Not registered by default: call
 * `registerReferenceBackend()` to make it available to resolveBackend (and the CLI's --backend).
 */
import {
  BACKEND_CONTRACT_VERSION,
  FmnError,
  checkConvention,
  maskConventionOf,
  maskLayoutOf,
  masksFor,
  registerBackend,
  validateBatch,
  type Backend,
  type BackendCapabilities,
  type Batch,
  type EncoderModel,
  type FisherConvention,
  type MaskGradients,
  type MaskLayout,
  type MaskValues,
  type ModelSession,
} from '@fmn/core';
import { sliceBatch } from './batches.js';
import { referenceLogits, referenceLoss } from './reference.js';

/** Central finite differences of the reference loss w.r.t. shared masks, at `masks`. */
function finiteDifferences(model: EncoderModel, batch: Batch, masks: MaskValues, step = 1e-5) {
  // float64 copies, so the step can be small (the reference reads masks as plain numbers)
  const at = { head: Float64Array.from(masks.head), neuron: Float64Array.from(masks.neuron) };
  const loss = (m: typeof at) => referenceLoss(model, batch, m as unknown as MaskValues);
  const grad = (which: 'head' | 'neuron') =>
    Float32Array.from(at[which], (v, i) => {
      at[which][i] = v + step;
      const hi = loss(at);
      at[which][i] = v - step;
      const lo = loss(at);
      at[which][i] = v;
      return (hi - lo) / (2 * step);
    });
  return { head: grad('head'), neuron: grad('neuron') };
}

class ReferenceSession implements ModelSession {
  readonly layout: MaskLayout;
  constructor(private readonly model: EncoderModel) {
    this.layout = maskLayoutOf(model);
  }

  logits(batch: Batch): Promise<Float32Array> {
    validateBatch(this.model, batch);
    return Promise.resolve(Float32Array.from(referenceLogits(this.model, batch)));
  }

  loss(batch: Batch, masks?: MaskValues): Promise<number> {
    validateBatch(this.model, batch, { labels: true });
    if (masks) maskConventionOf(this.layout, masks, batch.size);
    return Promise.resolve(referenceLoss(this.model, batch, masks));
  }

  maskGradients(
    batch: Batch,
    options: { convention: FisherConvention; masks?: MaskValues },
  ): Promise<MaskGradients> {
    checkConvention(options.convention);
    if (options.convention === 'model')
      return Promise.reject(new FmnError('the reference backend does not compute the model convention'));
    validateBatch(this.model, batch, { labels: true });
    const masks = masksFor(this.layout, batch.size, options.convention, options.masks);
    if (options.convention === 'batch') {
      const g = finiteDifferences(this.model, batch, masks);
      return Promise.resolve({ loss: referenceLoss(this.model, batch, masks), ...g });
    }
    // example: each example's own loss at its own copy of the masks
    const nh = masks.head.length / batch.size;
    const nn = masks.neuron.length / batch.size;
    const head = new Float32Array(masks.head.length);
    const neuron = new Float32Array(masks.neuron.length);
    for (let i = 0; i < batch.size; i++) {
      const own = {
        head: masks.head.subarray(i * nh, i * nh + nh),
        neuron: masks.neuron.subarray(i * nn, i * nn + nn),
      };
      const g = finiteDifferences(this.model, sliceBatch(batch, i), own);
      head.set(g.head, i * nh);
      neuron.set(g.neuron, i * nn);
    }
    return Promise.resolve({ loss: referenceLoss(this.model, batch, masks), head, neuron });
  }

  dispose(): void {}
}

export class ReferenceBackend implements Backend {
  readonly runtime = 'fmn float64 reference (JavaScript, finite-difference mask gradients)';
  readonly contractVersion = BACKEND_CONTRACT_VERSION;
  readonly capabilities: BackendCapabilities = {
    conventions: ['batch', 'example'],
    fullFisher: false,
    training: false,
    threads: 1,
  };
  constructor(readonly name = 'reference-f64') {}

  load(model: EncoderModel): Promise<ModelSession> {
    if (model.head?.kind !== 'classification')
      return Promise.reject(new FmnError('the reference backend needs a classification head'));
    return Promise.resolve(new ReferenceSession(model));
  }
}

/** Registers the reference backend under `name` (default "reference-f64") with the given priority. */
export function registerReferenceBackend(name = 'reference-f64', priority = 0): void {
  registerBackend(name, { init: () => Promise.resolve(new ReferenceBackend(name)) }, priority);
}
