import type { Row } from '../../core/target-connector.js';
import { defineProbe } from './define-probe.js';

/**
 * What the node does in replication, from views pg_monitor can read. Walsenders serving a
 * logical slot are logical consumers, not binary standbys; base backups are neither.
 * Publications are per database, so publication_count is of the target's database; the other
 * counts are cluster-wide. A node publishes when it has a publication or a logical slot in
 * use, and subscribes when it has an enabled subscription (a disabled one replicates nothing).
 */
const FACTS_CTE = `
  WITH n AS (
    SELECT pg_is_in_recovery() AS in_recovery,
           (SELECT count(*) FROM pg_stat_replication r
             WHERE r.state IS DISTINCT FROM 'backup'
               AND NOT EXISTS (SELECT 1 FROM pg_replication_slots s
                                WHERE s.active_pid = r.pid AND s.slot_type = 'logical'))
             AS binary_standbys,
           w.status AS receiver_status, w.sender_host, w.sender_port,
           (SELECT count(*) FROM pg_publication) AS publications,
           (SELECT count(*) FROM pg_subscription) AS subscriptions,
           (SELECT count(*) FROM pg_subscription WHERE subenabled) AS enabled_subscriptions,
           (SELECT count(*) FROM pg_replication_slots WHERE slot_type = 'logical')
             AS logical_slots,
           (SELECT count(*) FROM pg_replication_slots WHERE slot_type = 'logical' AND active)
             AS active_logical_slots
      FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver w ON true
  ), f AS (
    SELECT n.*,
           n.publications > 0 OR n.active_logical_slots > 0 AS publisher,
           n.enabled_subscriptions > 0 AS subscriber
      FROM n
  )`;

// Physical roles first: a primary with standbys is that before it is a publisher.
const PRIMARY_ROLE = `
  CASE WHEN f.in_recovery AND f.binary_standbys > 0 THEN 'cascading_standby'
       WHEN f.in_recovery THEN 'binary_standby'
       WHEN f.binary_standbys > 0 THEN 'binary_primary'
       WHEN f.publisher AND f.subscriber THEN 'logical_bidirectional'
       WHEN f.publisher THEN 'logical_publisher'
       WHEN f.subscriber THEN 'logical_subscriber'
       ELSE 'standalone' END`;

const ROLE_FLAGS = `
  to_json(coalesce(nullif(array_remove(ARRAY[
    CASE WHEN f.in_recovery THEN 'binary_standby' END,
    CASE WHEN f.in_recovery AND f.binary_standbys > 0 THEN 'cascading_standby' END,
    CASE WHEN NOT f.in_recovery AND f.binary_standbys > 0 THEN 'binary_primary' END,
    CASE WHEN f.publisher THEN 'logical_publisher' END,
    CASE WHEN f.subscriber THEN 'logical_subscriber' END
  ], NULL), '{}'), ARRAY['standalone']))::text`;

export const pgNodeRole = defineProbe({
  name: 'pg_node_role',
  scope: 'server',
  description:
    'Replication role of the node (standalone, primary, standby, logical publisher/subscriber)',
  intervalMs: 5 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: [],
  columns: [
    { name: 'primary_role', type: 'text', sql: PRIMARY_ROLE },
    { name: 'role_flags', type: 'jsonb', sql: ROLE_FLAGS },
    { name: 'is_in_recovery', type: 'bool', sql: 'f.in_recovery' },
    { name: 'timeline_id', type: 'int8', sql: 'tl.timeline_id' },
    { name: 'postmaster_start_time', type: 'timestamptz', sql: 'pg_postmaster_start_time()' },
    { name: 'binary_standby_count', type: 'int8', sql: 'f.binary_standbys' },
    {
      name: 'is_streaming_standby',
      type: 'bool',
      sql: "f.in_recovery AND f.receiver_status IS NOT DISTINCT FROM 'streaming'",
    },
    { name: 'upstream_host', type: 'text', sql: 'f.sender_host' },
    { name: 'upstream_port', type: 'int8', sql: 'f.sender_port' },
    { name: 'received_lsn', type: 'text', sql: 'pg_last_wal_receive_lsn()::text' },
    { name: 'replayed_lsn', type: 'text', sql: 'pg_last_wal_replay_lsn()::text' },
    { name: 'publication_count', type: 'int8', sql: 'f.publications' },
    { name: 'subscription_count', type: 'int8', sql: 'f.subscriptions' },
    // Enabled ones: a disabled subscription has no worker and receives nothing.
    { name: 'active_subscription_count', type: 'int8', sql: 'f.enabled_subscriptions' },
    { name: 'logical_slot_count', type: 'int8', sql: 'f.logical_slots' },
    { name: 'active_logical_slot_count', type: 'int8', sql: 'f.active_logical_slots' },
  ],
  // EXECUTE on pg_control_checkpoint() is checked when the statement starts, even inside a CASE
  // branch never taken, so whether this role may call it is asked first, not found by failing.
  read: async (ctx, select): Promise<readonly Row[]> => {
    const [grant] = await ctx.session.query<{ ok: boolean }>(
      "SELECT has_function_privilege('pg_catalog.pg_control_checkpoint()', 'EXECUTE') AS ok",
    );
    const timeline =
      grant?.ok === true ? '(SELECT timeline_id::int8 FROM pg_control_checkpoint())' : 'NULL::int8';
    return ctx.session.query(
      `${FACTS_CTE} SELECT ${select} FROM f CROSS JOIN (SELECT ${timeline} AS timeline_id) tl`,
    );
  },
});
