import { defineProbe } from './define-probe.js';
import { currentWalLsnSql, secondsSql } from './probe-sql.js';

/**
 * A replica's flush_lsn stands in for "received": WAL it has on disk, as
 * pg_last_wal_receive_lsn() is on a standby itself.
 */
function replicaRows(currentLsn: string): string {
  return `
    SELECT 'primary'::text AS role, coalesce(r.application_name, '') AS application_name,
           r.pid, host(r.client_addr) AS client_addr, r.state, r.sync_state,
           r.flush_lsn::text AS receive_lsn, r.replay_lsn::text AS replay_lsn,
           pg_wal_lsn_diff(cur.lsn, r.sent_lsn)::int8 AS sent_lag_bytes,
           pg_wal_lsn_diff(cur.lsn, r.write_lsn)::int8 AS write_lag_bytes,
           pg_wal_lsn_diff(cur.lsn, r.flush_lsn)::int8 AS flush_lag_bytes,
           pg_wal_lsn_diff(cur.lsn, r.replay_lsn)::int8 AS replay_lag_bytes,
           ${secondsSql('r.write_lag')} AS write_lag_seconds,
           ${secondsSql('r.flush_lag')} AS flush_lag_seconds,
           ${secondsSql('r.replay_lag')} AS replay_lag_seconds,
           NULL::float8 AS replay_delay_seconds
      FROM pg_stat_replication r CROSS JOIN (SELECT ${currentLsn} AS lsn) cur`;
}

// Receive and replay positions equal means nothing is waiting: no delay, however long ago the
// last replayed transaction committed on the primary.
const STANDBY_ROW = `
    SELECT 'standby'::text, 'self'::text, coalesce(w.pid, 0), NULL::text, w.status, NULL::text,
           p.receive_lsn::text, p.replay_lsn::text,
           NULL::int8, NULL::int8, NULL::int8,
           pg_wal_lsn_diff(p.receive_lsn, p.replay_lsn)::int8,
           NULL::float8, NULL::float8, NULL::float8,
           CASE WHEN p.receive_lsn = p.replay_lsn THEN 0::float8
                ELSE ${secondsSql('now() - pg_last_xact_replay_timestamp()')} END
      FROM (SELECT pg_last_wal_receive_lsn() AS receive_lsn,
                   pg_last_wal_replay_lsn() AS replay_lsn) p
      LEFT JOIN pg_stat_wal_receiver w ON true`;

/**
 * How far each replica is behind this server (bytes from this server's newest WAL, and the lag
 * times the replica reports) and, on a standby, how far its replay trails what it received.
 */
export const pgReplicationLag = defineProbe({
  name: 'pg_replication_lag',
  scope: 'server',
  description:
    'Replication lag per replica in bytes and seconds; on a standby, its receive-to-replay delay',
  retentionDays: 7,
  enabledByDefault: true,
  // pid as well: replicas often share an application_name ('walreceiver' by default).
  key: ['role', 'application_name', 'pid'],
  columns: [
    { name: 'role', type: 'text' },
    { name: 'application_name', type: 'text' },
    { name: 'pid', type: 'int8' },
    { name: 'client_addr', type: 'text' },
    { name: 'state', type: 'text' },
    { name: 'sync_state', type: 'text' },
    { name: 'receive_lsn', type: 'text' },
    { name: 'replay_lsn', type: 'text' },
    { name: 'sent_lag_bytes', type: 'int8' },
    { name: 'write_lag_bytes', type: 'int8' },
    { name: 'flush_lag_bytes', type: 'int8' },
    { name: 'replay_lag_bytes', type: 'int8' },
    { name: 'write_lag_seconds', type: 'float8' },
    { name: 'flush_lag_seconds', type: 'float8' },
    { name: 'replay_lag_seconds', type: 'float8' },
    { name: 'replay_delay_seconds', type: 'float8' },
  ],
  sql: (select, { facts }) =>
    `SELECT ${select} FROM (${replicaRows(currentWalLsnSql(facts))}
     ${facts.isInRecovery ? `UNION ALL ${STANDBY_ROW}` : ''}) lag ORDER BY 1, 2, 3`,
});
