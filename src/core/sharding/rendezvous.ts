import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: every shard scores every target name and the
 * highest score owns it. Each replica computes the same answer alone, so no coordinator is
 * needed; adding shard N moves to it only the targets it now outscores everyone on (about
 * 1/(N+1) of them), and removing one moves only its own.
 */
export function shardOf(targetName: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be ≥ 1');
  let best = 0;
  let bestScore = -1;
  for (let shard = 0; shard < shards; shard++) {
    const score = weight(targetName, shard);
    if (score > bestScore) {
      best = shard;
      bestScore = score;
    }
  }
  return best;
}

/** Whether `shard` of `shards` collects the target. */
export function ownsTarget(targetName: string, shard: number, shards: number): boolean {
  return shards <= 1 || shardOf(targetName, shards) === shard;
}

/** 48 bits of SHA-256 over (shard, name): uniform, stable across processes and versions. */
function weight(targetName: string, shard: number): number {
  return createHash('sha256').update(`${shard}\u0000${targetName}`).digest().readUIntBE(0, 6);
}
