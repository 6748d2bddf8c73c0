import type { ServerFacts } from '../../core/server-facts.js';

/**
 * SQL for the newest WAL position this server has. pg_current_wal_lsn() raises on a standby;
 * there the newest WAL is what it received (streaming) or replayed (archive recovery),
 * whichever is further.
 */
export function currentWalLsnSql(facts: ServerFacts): string {
  // Facts are per connection and a standby can be promoted under one: a standby also decides
  // at query time (CASE evaluates only the branch taken, so pg_current_wal_lsn() is not called
  // during recovery). A primary cannot become a standby without a restart.
  return facts.isInRecovery
    ? `CASE WHEN pg_is_in_recovery()
            THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
            ELSE pg_current_wal_lsn() END`
    : 'pg_current_wal_lsn()';
}

/** An interval as seconds, for rates and thresholds. */
export function secondsSql(interval: string): string {
  return `extract(epoch FROM ${interval})::float8`;
}
