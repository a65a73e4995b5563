import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SharedTensors } from './shared.js';

/** Consumer c takes tensors 0..n-1 in order and "writes" each for delays[c] ms. */
async function consume(
  shared: SharedTensors<string>,
  n: number,
  delay: number,
  done: number[],
): Promise<string[]> {
  const got: string[] = [];
  for (let k = 0; k < n; k++) {
    got.push(await shared.take(k));
    await sleep(delay);
    done[k]++;
  }
  return got;
}

describe('SharedTensors (streaming hand-out of merged tensors)', () => {
  it('computes each tensor once, in order, only after every consumer is done with the previous one', async () => {
    const n = 6;
    const delays = [0, 3, 9]; // writers of very different speeds
    const done = new Array<number>(n).fill(0);
    const order: number[] = [];
    let running = 0;
    const shared = new SharedTensors<string>(delays.length, async (k) => {
      order.push(k);
      // every consumer has finished with tensor k-1: no other merged tensor is held
      if (k > 0) expect(done[k - 1]).toBe(delays.length);
      expect(running).toBe(0);
      running++;
      await sleep(1);
      running--;
      return `t${k}`;
    });
    const results = await Promise.all(delays.map((d) => consume(shared, n, d, done)));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(shared.computed).toBe(n);
    const want = Array.from({ length: n }, (_, k) => `t${k}`);
    for (const r of results) expect(r).toEqual(want);
  });

  it('a failed computation reaches every consumer, and later takes fail too', async () => {
    const boom = new Error('boom');
    const shared = new SharedTensors<string>(2, async (k) => {
      if (k === 1) throw boom;
      return `t${k}`;
    });
    const done = [0, 0, 0];
    const results = await Promise.allSettled([consume(shared, 3, 0, done), consume(shared, 3, 2, done)]);
    for (const r of results) expect(r).toEqual({ status: 'rejected', reason: boom });
    await expect(shared.take(2)).rejects.toBe(boom);
  });

  it('a consumer that gives up (fail) releases the consumers waiting for it', async () => {
    const shared = new SharedTensors<string>(2, async (k) => `t${k}`);
    const waiting = shared.take(0); // consumer 2 never asks: this would wait forever
    const stop = new Error('disk full');
    shared.fail(stop);
    await expect(waiting).rejects.toBe(stop);
    await expect(shared.take(1)).rejects.toBe(stop);
    expect(shared.computed).toBe(0);
  });

  it('needs at least one consumer', () => {
    expect(() => new SharedTensors(0, async () => 1)).toThrow(/positive integer/);
  });
});
