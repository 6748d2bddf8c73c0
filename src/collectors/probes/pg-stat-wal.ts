import { defineProbe } from './define-probe.js';
import { currentWalLsnSql } from './probe-sql.js';

/**
 * WAL generation and archiving in one row. The WAL position as a byte count gives WAL
 * generation rates on every version, including 12 and 13 that have no pg_stat_wal.
 */
export const pgStatWal = defineProbe({
  name: 'pg_stat_wal',
  scope: 'server',
  description:
    'WAL generated (records, full-page images, bytes, position), buffer pressure and archiving',
  retentionDays: 7,
  enabledByDefault: true,
  key: [],
  columns: [
    { name: 'wal_records', type: 'int8', sql: 'w.wal_records', since: 14 },
    { name: 'wal_fpi', type: 'int8', sql: 'w.wal_fpi', since: 14 },
    { name: 'wal_bytes', type: 'int8', sql: 'w.wal_bytes::int8', since: 14 },
    { name: 'wal_buffers_full', type: 'int8', sql: 'w.wal_buffers_full', since: 14 },
    // 18 moved WAL write and sync counts and times to pg_stat_io (object 'wal').
    { name: 'wal_write', type: 'int8', sql: 'w.wal_write', since: 14, until: 17 },
    { name: 'wal_sync', type: 'int8', sql: 'w.wal_sync', since: 14, until: 17 },
    { name: 'wal_write_time', type: 'float8', sql: 'w.wal_write_time', since: 14, until: 17 },
    { name: 'wal_sync_time', type: 'float8', sql: 'w.wal_sync_time', since: 14, until: 17 },
    { name: 'stats_reset', type: 'timestamptz', sql: 'w.stats_reset', since: 14 },
    { name: 'current_wal_lsn', type: 'text', sql: 'cur.lsn::text' },
    { name: 'wal_lsn_bytes', type: 'int8', sql: "pg_wal_lsn_diff(cur.lsn, '0/0')::int8" },
    { name: 'archived_count', type: 'int8', sql: 'a.archived_count' },
    { name: 'last_archived_wal', type: 'text', sql: 'a.last_archived_wal' },
    { name: 'last_archived_time', type: 'timestamptz', sql: 'a.last_archived_time' },
    { name: 'failed_count', type: 'int8', sql: 'a.failed_count' },
    { name: 'last_failed_wal', type: 'text', sql: 'a.last_failed_wal' },
    { name: 'last_failed_time', type: 'timestamptz', sql: 'a.last_failed_time' },
    { name: 'archiver_stats_reset', type: 'timestamptz', sql: 'a.stats_reset' },
  ],
  sql: (select, { facts }) => `
    SELECT ${select}
      FROM pg_stat_archiver a
      ${facts.major >= 14 ? 'CROSS JOIN pg_stat_wal w' : ''}
     CROSS JOIN (SELECT ${currentWalLsnSql(facts)} AS lsn) cur`,
});
