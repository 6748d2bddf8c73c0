import { defineProbe, type ProbeCollector } from './define-probe.js';
import { secondsSql } from './maintenance-sql.js';

/** How old a transaction, statement or idle-in-transaction spell must be to be listed. */
export const LONG_RUNNING_THRESHOLD_SECONDS = 60;

/** Beyond this many sessions the oldest are kept: a runaway pool must not flood the store. */
const MAX_SESSIONS = 500;

/**
 * Sessions that hold back vacuum or locks: client backends and autovacuum workers whose
 * transaction or statement is older than the threshold, or that sit idle in a transaction.
 * Every database counts, monitored or not, since an old snapshot anywhere holds back the
 * cluster-wide xmin horizon. The threshold is a parameter so tests can use a short one.
 */
export function longRunningSessionsProbe(thresholdSeconds: number): ProbeCollector {
  if (!Number.isFinite(thresholdSeconds) || thresholdSeconds < 0) {
    throw new Error(`pg_long_running_sessions: bad threshold ${thresholdSeconds}`);
  }
  const over = (start: string): string =>
    `now() - ${start} > interval '${thresholdSeconds} seconds'`;
  const idleInTx = `a.state LIKE 'idle in transaction%' AND ${over('a.state_change')}`;
  const longQuery = `a.state = 'active' AND ${over('a.query_start')}`;
  return defineProbe({
    name: 'pg_long_running_sessions',
    scope: 'server',
    description: `Sessions idle in transaction or with a transaction or statement older than ${thresholdSeconds} s`,
    retentionDays: 14,
    enabledByDefault: true,
    key: ['pid'],
    columns: [
      { name: 'pid', type: 'int8', sql: 'a.pid' },
      { name: 'datname', type: 'text', sql: 'a.datname' },
      { name: 'usename', type: 'text', sql: 'a.usename' },
      { name: 'application_name', type: 'text', sql: 'a.application_name' },
      // host() drops the /32 that inet's text form adds.
      { name: 'client_addr', type: 'text', sql: 'host(a.client_addr)' },
      { name: 'backend_type', type: 'text', sql: 'a.backend_type' },
      { name: 'state', type: 'text', sql: 'a.state' },
      { name: 'wait_event_type', type: 'text', sql: 'a.wait_event_type' },
      { name: 'wait_event', type: 'text', sql: 'a.wait_event' },
      { name: 'xact_age_seconds', type: 'float8', sql: secondsSql('now() - a.xact_start') },
      { name: 'query_age_seconds', type: 'float8', sql: secondsSql('now() - a.query_start') },
      { name: 'state_age_seconds', type: 'float8', sql: secondsSql('now() - a.state_change') },
      {
        name: 'kind',
        type: 'text',
        sql: `CASE WHEN ${idleInTx} THEN 'idle_in_transaction' WHEN ${longQuery} THEN 'long_query' ELSE 'long_transaction' END`,
      },
      // Statement texts leave the server: cut, withheld whole when they may hold a password, and
      // obfuscated otherwise.
      {
        name: 'query',
        type: 'text',
        sql: "CASE WHEN a.query ~* '(password|passwd)' THEN '<redacted: may contain a password>' ELSE left(a.query, 2048) END",
        statementText: true,
      },
      // How far this session holds back the xmin horizon (what VACUUM may remove).
      { name: 'xmin_age', type: 'int8', sql: 'age(a.backend_xmin)::int8' },
    ],
    sql: (select) =>
      `SELECT ${select}
         FROM pg_stat_activity a
        WHERE a.pid <> pg_backend_pid()
          AND a.backend_type IN ('client backend', 'autovacuum worker')
          AND (${over('a.xact_start')} OR (${longQuery}) OR (${idleInTx}))
        ORDER BY least(a.xact_start, a.query_start) NULLS LAST, a.pid
        LIMIT ${MAX_SESSIONS}`,
  });
}

export const pgLongRunningSessions = longRunningSessionsProbe(LONG_RUNNING_THRESHOLD_SECONDS);
