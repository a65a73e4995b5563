import { FmnError } from '@fmn/core';

export interface Shard {
  /** 0-based shard index */
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `--shard i/n`: shard i (0-based, 0 <= i < n) of n. Matches the 0-based indices of
 * Kubernetes indexed jobs (JOB_COMPLETION_INDEX) and Slurm arrays (--array=0-(n-1)).
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new FmnError(`--shard: expected i/n (for example 0/4), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new FmnError(`--shard: the number of shards must be at least 1, got ${count}`);
  if (index >= count) {
    throw new FmnError(`--shard: the shard index is 0-based and must be below ${count}, got ${index}`);
  }
  return { index, count };
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/**
 * Shard i of n over a list of batches: the sampled examples are cut into consecutive batches of
 * the batch size (the last one may be smaller), and shard i takes the contiguous run of batches
 * [floor(i*nb/n), floor((i+1)*nb/n)) of the nb batches. Cutting on batch boundaries keeps every
 * batch what it is in the unsharded run, so the sum of the shards' Fishers equals the unsharded
 * Fisher under both conventions (up to float rounding).
 */
export function shardRange(
  batches: number,
  shard: Shard | undefined,
  what: { examples: number; batchSize: number },
): [number, number] {
  if (!shard) return [0, batches];
  const lo = Math.floor((shard.index * batches) / shard.count);
  const hi = Math.floor(((shard.index + 1) * batches) / shard.count);
  if (hi <= lo) {
    throw new FmnError(
      `--shard ${formatShard(shard)}: this shard is empty (${what.examples} examples make ${batches} batches of ${what.batchSize}; use at most ${batches} shards)`,
    );
  }
  return [lo, hi];
}
