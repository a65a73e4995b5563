/**
 * Hands the merged tensors (or the blocks of rows of a tensor merged by rows), in order, to several
 * consumers (one output writer per input model) while holding at most one at a time: item k is
 * computed only once EVERY consumer has asked for it, i.e. once every consumer is done with item
 * k-1, so the engine's peak memory is the inputs of one item plus one merged item ((M + 1) x the
 * largest tensor, or block), however the writers' speeds differ.
 */

interface Pending<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
  remaining: number;
}

export class SharedTensors<T> {
  private readonly pending = new Map<number, Pending<T>>();
  private failure: { readonly error: unknown } | undefined;
  /** how many tensors have been computed (for tests and diagnostics) */
  computed = 0;

  /**
   * @param consumers how many consumers take every tensor; each takes tensors 0, 1, 2, ... in order
   * @param compute computes tensor k (called once per k, in order, never two at a time)
   */
  constructor(
    private readonly consumers: number,
    private readonly compute: (k: number) => Promise<T>,
  ) {
    if (!(Number.isInteger(consumers) && consumers >= 1)) {
      throw new Error(`SharedTensors: consumers must be a positive integer, got ${consumers}`);
    }
  }

  /** Tensor k for one consumer; resolves once all consumers have asked for it and it is computed. */
  take(k: number): Promise<T> {
    if (this.failure) return Promise.reject(this.failure.error);
    let p = this.pending.get(k);
    if (!p) {
      let resolve!: (value: T) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      p = { promise, resolve, reject, remaining: this.consumers };
      this.pending.set(k, p);
    }
    p.remaining--;
    if (p.remaining === 0) {
      this.pending.delete(k);
      const entry = p;
      this.computed++;
      this.compute(k).then(entry.resolve, (e: unknown) => {
        this.fail(e);
        entry.reject(e);
      });
    }
    return p.promise;
  }

  /**
   * A consumer gave up (its output failed): every consumer waiting now, or asking later, gets
   * `error`, so none waits forever for the one that stopped.
   */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
