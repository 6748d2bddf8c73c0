import { defineProbe } from './define-probe.js';
import { secondsSql } from './probe-sql.js';

/**
 * One row per session. Statement texts are cut to 2 kB, and replaced whole when they may carry
 * a password (ALTER ROLE ... PASSWORD, dblink connection strings), since they leave the server;
 * what is left is obfuscated (literals `?`, comments dropped).
 */
export const pgStatActivity = defineProbe({
  name: 'pg_stat_activity',
  scope: 'server',
  description:
    'Every session: who, from where, state, wait event, current statement and transaction ages',
  intervalMs: 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['pid'],
  columns: [
    { name: 'datid', type: 'int8', sql: 'datid::int8' },
    { name: 'datname', type: 'text' },
    { name: 'pid', type: 'int8' },
    { name: 'leader_pid', type: 'int8', since: 13 },
    { name: 'usesysid', type: 'int8', sql: 'usesysid::int8' },
    { name: 'usename', type: 'text' },
    { name: 'application_name', type: 'text' },
    { name: 'client_addr', type: 'text', sql: 'host(client_addr)' },
    { name: 'client_hostname', type: 'text' },
    { name: 'client_port', type: 'int8' },
    { name: 'backend_start', type: 'timestamptz' },
    { name: 'xact_start', type: 'timestamptz' },
    { name: 'query_start', type: 'timestamptz' },
    { name: 'state_change', type: 'timestamptz' },
    { name: 'wait_event_type', type: 'text' },
    { name: 'wait_event', type: 'text' },
    { name: 'state', type: 'text' },
    { name: 'backend_xid', type: 'text', sql: 'backend_xid::text' },
    { name: 'backend_xmin', type: 'text', sql: 'backend_xmin::text' },
    // Text like pg_stat_statements.queryid: a 64-bit hash does not survive a JS number.
    { name: 'query_id', type: 'text', sql: 'query_id::text', since: 14 },
    {
      name: 'query',
      type: 'text',
      sql: "CASE WHEN query ~* '(password|passwd)' THEN '<redacted: may contain a password>' ELSE left(query, 2048) END",
      statementText: true,
    },
    { name: 'backend_type', type: 'text' },
    { name: 'xact_age_seconds', type: 'float8', sql: secondsSql('clock_timestamp() - xact_start') },
    {
      name: 'query_age_seconds',
      type: 'float8',
      sql: secondsSql('clock_timestamp() - query_start'),
    },
    {
      name: 'state_age_seconds',
      type: 'float8',
      sql: secondsSql('clock_timestamp() - state_change'),
    },
  ],
  sql: (select) =>
    `SELECT ${select} FROM pg_stat_activity WHERE pid <> pg_backend_pid() ORDER BY pid`,
});
