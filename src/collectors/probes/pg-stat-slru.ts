import { defineProbe } from './define-probe.js';

/** SLRU caches (commit log, multixacts, subtransactions...); PG17 renamed several of them. */
export const pgStatSlru = defineProbe({
  name: 'pg_stat_slru',
  scope: 'server',
  description:
    'SLRU cache activity per cache (transaction status, multixacts, subtransactions, notify...)',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  requires: { minMajor: 13 },
  key: ['name'],
  columns: [
    { name: 'name', type: 'text' },
    { name: 'blks_zeroed', type: 'int8' },
    { name: 'blks_hit', type: 'int8' },
    { name: 'blks_read', type: 'int8' },
    { name: 'blks_written', type: 'int8' },
    { name: 'blks_exists', type: 'int8' },
    { name: 'flushes', type: 'int8' },
    { name: 'truncates', type: 'int8' },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_stat_slru ORDER BY name`,
});
