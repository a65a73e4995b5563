import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, f16ToF32 } from '@fmn/core';
import { writeCheckpoint } from '@fmn/testkit';
import { distilbertFixture } from './distilbert.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmn-fixture-distilbert-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('DistilBERT fixture (HuggingFace layout)', () => {
  it('DistilBERT: own names, no token types; bare base model has no prefix; fp16 on request', async () => {
    const fx = await writeCheckpoint(join(root, 'distil'), distilbertFixture, {
      numLabels: 0,
      layers: 1,
      dtype: 'F16',
    });
    expect(fx.config.architectures).toEqual(['DistilBertModel']);
    expect(fx.config.torch_dtype).toBe('float16');
    expect(fx.tensors.every((t) => !t.name.startsWith('distilbert.') && t.dtype === 'F16')).toBe(true);
    expect(fx.tensors.map((t) => t.name)).toContain('transformer.layer.0.attention.q_lin.weight');
    expect(fx.tensors.map((t) => t.name)).toContain('transformer.layer.0.ffn.lin2.weight');
    expect(fx.tensors.some((t) => t.name.includes('token_type'))).toBe(false);
    const ck = await Checkpoint.open(fx.dir);
    const raw = await ck.read('transformer.layer.0.output_layer_norm.weight');
    await ck.close();
    expect(raw.dtype).toBe('F16');
    const v = f16ToF32(new DataView(raw.bytes.buffer, raw.bytes.byteOffset).getUint16(0, true));
    expect(Math.abs(v - 1)).toBeLessThan(0.5);
  });
});
