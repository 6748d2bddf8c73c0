import { defineProbe } from './define-probe.js';
import { currentWalLsnSql } from './probe-sql.js';

/**
 * Every slot, including those without a restart_lsn (never used or invalidated), which are the
 * ones a DBA most needs to see. Retained WAL is measured from this server's newest WAL, so it
 * works on standbys too.
 */
export const pgReplicationSlots = defineProbe({
  name: 'pg_replication_slots',
  scope: 'server',
  description:
    'Replication slots: activity, WAL retained and its status, xmin horizons held, decoding stats',
  intervalMs: 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['slot_name'],
  columns: [
    { name: 'slot_name', type: 'text', sql: 's.slot_name' },
    { name: 'plugin', type: 'text', sql: 's.plugin' },
    { name: 'slot_type', type: 'text', sql: 's.slot_type' },
    { name: 'datoid', type: 'int8', sql: 's.datoid::int8' },
    { name: 'database', type: 'text', sql: 's.database' },
    { name: 'temporary', type: 'bool', sql: 's.temporary' },
    { name: 'active', type: 'bool', sql: 's.active' },
    { name: 'active_pid', type: 'int8', sql: 's.active_pid' },
    // Stored as slot_xmin: xmin is a system column of every table, so no table can have it.
    { name: 'slot_xmin', type: 'text', sql: 's.xmin::text' },
    { name: 'catalog_xmin', type: 'text', sql: 's.catalog_xmin::text' },
    { name: 'restart_lsn', type: 'text', sql: 's.restart_lsn::text' },
    { name: 'confirmed_flush_lsn', type: 'text', sql: 's.confirmed_flush_lsn::text' },
    { name: 'wal_status', type: 'text', sql: 's.wal_status', since: 13 },
    { name: 'safe_wal_size', type: 'int8', sql: 's.safe_wal_size', since: 13 },
    { name: 'two_phase', type: 'bool', sql: 's.two_phase', since: 14 },
    { name: 'two_phase_at', type: 'text', sql: 's.two_phase_at::text', since: 18 },
    { name: 'inactive_since', type: 'timestamptz', sql: 's.inactive_since', since: 17 },
    { name: 'conflicting', type: 'bool', sql: 's.conflicting', since: 16 },
    { name: 'invalidation_reason', type: 'text', sql: 's.invalidation_reason', since: 17 },
    { name: 'failover', type: 'bool', sql: 's.failover', since: 17 },
    { name: 'synced', type: 'bool', sql: 's.synced', since: 17 },
    {
      name: 'retained_bytes',
      type: 'int8',
      sql: 'pg_wal_lsn_diff(cur.lsn, s.restart_lsn)::int8',
    },
    { name: 'xmin_age', type: 'int8', sql: 'age(s.xmin)' },
    { name: 'catalog_xmin_age', type: 'int8', sql: 'age(s.catalog_xmin)' },
    { name: 'spill_txns', type: 'int8', sql: 'st.spill_txns', since: 14 },
    { name: 'spill_count', type: 'int8', sql: 'st.spill_count', since: 14 },
    { name: 'spill_bytes', type: 'int8', sql: 'st.spill_bytes', since: 14 },
    { name: 'stream_txns', type: 'int8', sql: 'st.stream_txns', since: 14 },
    { name: 'stream_count', type: 'int8', sql: 'st.stream_count', since: 14 },
    { name: 'stream_bytes', type: 'int8', sql: 'st.stream_bytes', since: 14 },
    { name: 'total_txns', type: 'int8', sql: 'st.total_txns', since: 14 },
    { name: 'total_bytes', type: 'int8', sql: 'st.total_bytes', since: 14 },
    { name: 'stats_reset', type: 'timestamptz', sql: 'st.stats_reset', since: 14 },
  ],
  sql: (select, { facts }) => `
    SELECT ${select}
      FROM pg_replication_slots s
      ${facts.major >= 14 ? 'LEFT JOIN pg_stat_replication_slots st ON st.slot_name = s.slot_name' : ''}
     CROSS JOIN (SELECT ${currentWalLsnSql(facts)} AS lsn) cur
     ORDER BY s.slot_name`,
});
