import { defineProbe } from './define-probe.js';
import { currentWalLsnSql, secondsSql } from './probe-sql.js';

/** Bytes from a replica's position to this server's newest WAL. */
function behind(lsn: string): string {
  return `pg_wal_lsn_diff(cur.lsn, r.${lsn})::int8`;
}

/**
 * Walsender rows (this server feeding replicas; on a standby, cascaded ones) and, on a standby,
 * one row for its own WAL receiver, present even when the receiver is not running so that a
 * disconnected standby shows up. Receiver columns keep pgEdge's names.
 */
export const pgStatReplication = defineProbe({
  name: 'pg_stat_replication',
  scope: 'server',
  description:
    'Replication connections with positions, lag in bytes and seconds, and the standby WAL receiver',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['role', 'pid'],
  columns: [
    { name: 'role', type: 'text', sql: 'coalesce(r.role, w.role)' },
    // 0 on the receiver row: one row per standby, stable across receiver restarts.
    { name: 'pid', type: 'int8', sql: 'coalesce(r.pid, 0)' },
    { name: 'usesysid', type: 'int8', sql: 'r.usesysid::int8' },
    { name: 'usename', type: 'text', sql: 'r.usename' },
    { name: 'application_name', type: 'text', sql: 'r.application_name' },
    { name: 'client_addr', type: 'text', sql: 'host(r.client_addr)' },
    { name: 'client_hostname', type: 'text', sql: 'r.client_hostname' },
    { name: 'client_port', type: 'int8', sql: 'r.client_port' },
    { name: 'backend_start', type: 'timestamptz', sql: 'r.backend_start' },
    { name: 'backend_xmin', type: 'text', sql: 'r.backend_xmin::text' },
    { name: 'state', type: 'text', sql: 'r.state' },
    { name: 'sent_lsn', type: 'text', sql: 'r.sent_lsn::text' },
    { name: 'write_lsn', type: 'text', sql: 'r.write_lsn::text' },
    { name: 'flush_lsn', type: 'text', sql: 'r.flush_lsn::text' },
    { name: 'replay_lsn', type: 'text', sql: 'r.replay_lsn::text' },
    { name: 'write_lag', type: 'float8', sql: secondsSql('r.write_lag') },
    { name: 'flush_lag', type: 'float8', sql: secondsSql('r.flush_lag') },
    { name: 'replay_lag', type: 'float8', sql: secondsSql('r.replay_lag') },
    { name: 'sync_priority', type: 'int8', sql: 'r.sync_priority' },
    { name: 'sync_state', type: 'text', sql: 'r.sync_state' },
    { name: 'reply_time', type: 'timestamptz', sql: 'r.reply_time' },
    { name: 'sent_lag_bytes', type: 'int8', sql: behind('sent_lsn') },
    { name: 'write_lag_bytes', type: 'int8', sql: behind('write_lsn') },
    { name: 'flush_lag_bytes', type: 'int8', sql: behind('flush_lsn') },
    { name: 'replay_lag_bytes', type: 'int8', sql: behind('replay_lsn') },
    { name: 'receiver_pid', type: 'int8', sql: 'w.pid' },
    { name: 'receiver_status', type: 'text', sql: 'w.status' },
    { name: 'receive_start_lsn', type: 'text', sql: 'w.receive_start_lsn::text' },
    { name: 'receive_start_tli', type: 'int8', sql: 'w.receive_start_tli' },
    { name: 'written_lsn', type: 'text', sql: 'w.written_lsn::text', since: 13 },
    // PG12's received_lsn is WAL received and flushed: what flushed_lsn means from 13 on.
    { name: 'receiver_flushed_lsn', type: 'text', sql: 'w.received_lsn::text', until: 12 },
    { name: 'receiver_flushed_lsn', type: 'text', sql: 'w.flushed_lsn::text', since: 13 },
    { name: 'received_tli', type: 'int8', sql: 'w.received_tli' },
    { name: 'last_msg_send_time', type: 'timestamptz', sql: 'w.last_msg_send_time' },
    { name: 'last_msg_receipt_time', type: 'timestamptz', sql: 'w.last_msg_receipt_time' },
    { name: 'latest_end_lsn', type: 'text', sql: 'w.latest_end_lsn::text' },
    { name: 'latest_end_time', type: 'timestamptz', sql: 'w.latest_end_time' },
    { name: 'receiver_slot_name', type: 'text', sql: 'w.slot_name' },
    { name: 'sender_host', type: 'text', sql: 'w.sender_host' },
    { name: 'sender_port', type: 'int8', sql: 'w.sender_port' },
    // Passwords in it are shown as ******** by the server.
    { name: 'conninfo', type: 'text', sql: 'w.conninfo' },
  ],
  // FULL JOIN ON false: each side's rows once, the other side's columns NULL.
  sql: (select, { facts }) => `
    SELECT ${select}
      FROM (SELECT 'primary'::text AS role, * FROM pg_stat_replication) r
      FULL JOIN (SELECT 'standby'::text AS role, w.*
                   FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver w ON true
                  WHERE ${facts.isInRecovery ? 'true' : 'false'}) w ON false
     CROSS JOIN (SELECT ${currentWalLsnSql(facts)} AS lsn) cur
     ORDER BY 1, 2`,
});
