import type { ConfigIssue } from '../errors.js';
import type { ParsedSharding } from './config-schema.js';

/** Which share of the targets this process collects (replicas of one StatefulSet). */
export interface ShardingSettings {
  /** How many replicas share the targets; 1 means no sharding. */
  readonly shards: number;
  /** This replica's ordinal, 0 … shards−1. */
  readonly shard: number;
}

/**
 * `sharding.shards` / `PGQUERYLENS_SHARDS`, and the ordinal from `sharding.shard` /
 * `PGQUERYLENS_SHARD`, else the trailing number of the pod's name (`POD_NAME`, else `HOSTNAME`):
 * a StatefulSet names its pods `<name>-0`, `<name>-1`, …
 */
export function resolveSharding(
  parsed: ParsedSharding,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): ShardingSettings {
  const shards = parsed.shards ?? 1;
  if (shards <= 1) return { shards: 1, shard: 0 };
  let shard = parsed.shard;
  let path = 'sharding.shard';
  if (shard === undefined) {
    const source = ['POD_NAME', 'HOSTNAME'].find((n) => (env[n] ?? '') !== '');
    const match = source === undefined ? null : /-(\d+)$/.exec(env[source] ?? '');
    if (match === null) {
      issues.push({
        path: 'PGQUERYLENS_SHARD',
        message: `${shards} shards but no ordinal: set PGQUERYLENS_SHARD or POD_NAME (<name>-<ordinal>)`,
      });
      return { shards: 1, shard: 0 };
    }
    shard = Number(match[1]);
    path = source ?? path;
  }
  if (shard >= shards) {
    issues.push({ path, message: `ordinal ${shard} is not below the shard count ${shards}` });
    return { shards: 1, shard: 0 };
  }
  return { shards, shard };
}
