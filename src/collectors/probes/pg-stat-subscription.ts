import { defineProbe } from './define-probe.js';

const CONFLICTS = [
  'confl_insert_exists',
  'confl_update_origin_differs',
  'confl_update_exists',
  'confl_update_missing',
  'confl_delete_origin_differs',
  'confl_delete_missing',
  'confl_multiple_unique_conflicts',
] as const;

/**
 * One row per subscription worker (apply, table sync, parallel apply), or one row with pid 0
 * for a subscription with no worker running (disabled, or failing to connect), so the key stays
 * unique and a stopped subscription is still visible. pg_subscription is cluster-wide, so every
 * database's subscriptions show up here.
 */
export const pgStatSubscription = defineProbe({
  name: 'pg_stat_subscription',
  scope: 'server',
  description:
    'Logical replication subscriptions: workers, positions received, message times and error counts',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['subid', 'pid'],
  columns: [
    { name: 'subid', type: 'int8', sql: 's.subid::int8' },
    { name: 'subname', type: 'text', sql: 's.subname' },
    // Joined by oid, which PUBLIC may read only from 14 on (subconninfo never: not read).
    { name: 'enabled', type: 'bool', sql: 'sub.subenabled', since: 14 },
    { name: 'worker_type', type: 'text', sql: 's.worker_type', since: 17 },
    { name: 'pid', type: 'int8', sql: 'coalesce(s.pid, 0)' },
    { name: 'leader_pid', type: 'int8', sql: 's.leader_pid', since: 16 },
    { name: 'relid', type: 'int8', sql: 's.relid::int8' },
    { name: 'received_lsn', type: 'text', sql: 's.received_lsn::text' },
    { name: 'last_msg_send_time', type: 'timestamptz', sql: 's.last_msg_send_time' },
    { name: 'last_msg_receipt_time', type: 'timestamptz', sql: 's.last_msg_receipt_time' },
    { name: 'latest_end_lsn', type: 'text', sql: 's.latest_end_lsn::text' },
    { name: 'latest_end_time', type: 'timestamptz', sql: 's.latest_end_time' },
    { name: 'apply_error_count', type: 'int8', sql: 'ss.apply_error_count', since: 15 },
    { name: 'sync_error_count', type: 'int8', sql: 'ss.sync_error_count', since: 15 },
    ...CONFLICTS.map((name) => ({ name, type: 'int8' as const, sql: `ss.${name}`, since: 18 })),
    { name: 'stats_reset', type: 'timestamptz', sql: 'ss.stats_reset', since: 15 },
  ],
  sql: (select, { facts }) => `
    SELECT ${select}
      FROM pg_stat_subscription s
      ${facts.major >= 14 ? 'JOIN pg_subscription sub ON sub.oid = s.subid' : ''}
      ${facts.major >= 15 ? 'LEFT JOIN pg_stat_subscription_stats ss ON ss.subid = s.subid' : ''}
     ORDER BY s.subid, s.pid`,
});
