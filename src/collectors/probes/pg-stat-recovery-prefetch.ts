import { defineProbe } from './define-probe.js';

/** Meaningful on a standby (or during crash recovery); a primary shows its last recovery's. */
export const pgStatRecoveryPrefetch = defineProbe({
  name: 'pg_stat_recovery_prefetch',
  scope: 'server',
  description: 'WAL replay prefetching: blocks prefetched, hits, skips and look-ahead distances',
  retentionDays: 7,
  enabledByDefault: true,
  requires: { minMajor: 15 },
  key: [],
  columns: [
    { name: 'prefetch', type: 'int8' },
    { name: 'hit', type: 'int8' },
    { name: 'skip_init', type: 'int8' },
    { name: 'skip_new', type: 'int8' },
    { name: 'skip_fpw', type: 'int8' },
    { name: 'skip_rep', type: 'int8' },
    { name: 'wal_distance', type: 'int8' },
    { name: 'block_distance', type: 'int8' },
    { name: 'io_depth', type: 'int8' },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_stat_recovery_prefetch`,
});
