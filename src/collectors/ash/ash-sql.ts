import type { ServerFacts } from '../../core/server-facts.js';
import { APPLICATION_NAME } from '../connection/pg-client-config.js';

/**
 * One ASH tick: sessions that are doing something (running, waiting, or holding a
 * transaction open), never pg_blocking_pids (it takes every lock-manager partition lock, once
 * per row). Background processes are left out: a WAL sender is "active" for its whole life
 * and would count as a session forever, and so are pgquerylens's own sessions (a monitor that
 * shows itself as the busiest client helps nobody). $1 is the longest text kept, in characters.
 */
export function ashSampleSql(facts: ServerFacts): string {
  const queryId = facts.major >= 14 ? 'query_id::text' : 'NULL::text';
  const leaderPid = facts.major >= 13 ? 'leader_pid' : 'NULL::int4';
  return `SELECT clock_timestamp() AS sampled_at, pid, backend_start, datname, usename,
       application_name, client_addr::text AS client_addr, backend_type, state,
       wait_event_type, wait_event, ${queryId} AS query_id, ${leaderPid} AS leader_pid,
       xact_start, query_start, state_change, left(query, $1) AS query
  FROM pg_catalog.pg_stat_activity
 WHERE pid <> pg_catalog.pg_backend_pid()
   AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
   AND backend_type IN ('client backend', 'parallel worker')
   AND application_name IS DISTINCT FROM '${APPLICATION_NAME}'`;
}

/** The server's cap on pg_stat_activity texts, to tell a cut text from a short one. */
export const TRACK_ACTIVITY_QUERY_SIZE_SQL = `SELECT current_setting('track_activity_query_size') AS size`;

/**
 * Who blocks whom, run only after a tick saw a session waiting on a lock. pg_blocking_pids
 * sees the lock queue (a waiter ahead of us blocks too), which a pg_locks self-join cannot; a
 * prepared transaction holding the lock shows as pid 0. Nothing here joins
 * pg_stat_statements, so a blocker whose statement was evicted, a utility statement or an
 * idle-in-transaction session is still reported. $1: rows at most, $2: text length.
 */
export function blockingSql(facts: ServerFacts): string {
  const queryId = (alias: string): string =>
    facts.major >= 14 ? `${alias}.query_id::text` : 'NULL::text';
  const waitstart = facts.major >= 14 ? 'l.waitstart' : 'NULL::timestamptz';
  return `WITH waiting AS (
  SELECT pid, pg_catalog.pg_blocking_pids(pid) AS blockers
    FROM pg_catalog.pg_stat_activity
   WHERE wait_event_type = 'Lock' AND pid <> pg_catalog.pg_backend_pid()
)
SELECT clock_timestamp() AS observed_at,
       w.pid AS blocked_pid, a.datname, ${queryId('a')} AS blocked_query_id,
       left(a.query, $2) AS blocked_query, a.query_start AS blocked_query_start,
       b.blocker AS blocking_pid, ${queryId('ba')} AS blocking_query_id,
       left(ba.query, $2) AS blocking_query, ba.query_start AS blocking_query_start,
       ba.state AS blocking_state, ba.xact_start AS blocking_xact_start,
       px.gid AS prepared_gid, px.prepared AS prepared_at,
       l.locktype, l.mode,
       CASE WHEN l.relation IS NULL THEN NULL
            WHEN l.database = (SELECT oid FROM pg_catalog.pg_database
                                WHERE datname = pg_catalog.current_database())
              THEN l.relation::regclass::text
            ELSE l.relation::text END AS relation,
       ${waitstart} AS wait_start
  FROM waiting w
 CROSS JOIN LATERAL unnest(w.blockers) AS b(blocker)
  JOIN pg_catalog.pg_stat_activity a ON a.pid = w.pid
  LEFT JOIN pg_catalog.pg_stat_activity ba ON ba.pid = b.blocker AND b.blocker <> 0
  LEFT JOIN LATERAL (
    SELECT locktype, mode, relation, database${facts.major >= 14 ? ', waitstart' : ''}
      FROM pg_catalog.pg_locks
     WHERE pid = w.pid AND NOT granted
     LIMIT 1) l ON true
  LEFT JOIN LATERAL (
    SELECT gid, prepared FROM pg_catalog.pg_prepared_xacts
     WHERE b.blocker = 0 AND database = a.datname
     ORDER BY prepared LIMIT 1) px ON true
 LIMIT $1`;
}
