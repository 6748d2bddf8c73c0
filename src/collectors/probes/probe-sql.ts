import type { ServerFacts } from '../../core/server-facts.js';

/**
 * SQL for the newest WAL position this server has. pg_current_wal_lsn() raises on a standby;
 * there the newest WAL is what it received (streaming) or replayed (archive recovery),
 * whichever is further.
 */
export function currentWalLsnSql(facts: ServerFacts): string {
  return facts.isInRecovery
    ? 'greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())'
    : 'pg_current_wal_lsn()';
}

/** An interval as seconds, for rates and thresholds. */
export function secondsSql(interval: string): string {
  return `extract(epoch FROM ${interval})::float8`;
}
