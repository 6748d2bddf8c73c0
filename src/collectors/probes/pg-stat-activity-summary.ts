import { defineProbe } from './define-probe.js';

/**
 * Grouped in SQL so the result stays small however many sessions the server has. An active
 * session with no wait event is on CPU (or in an uninstrumented path), as ASH tools label it.
 */
export const pgStatActivitySummary = defineProbe({
  name: 'pg_stat_activity_summary',
  scope: 'server',
  description: 'Sessions by database, state, wait event type and backend type, with oldest ages',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['datname', 'state', 'wait_event_type', 'backend_type'],
  columns: [
    { name: 'datname', type: 'text', sql: "coalesce(datname, '')" },
    {
      name: 'state',
      type: 'text',
      sql: "coalesce(state, CASE WHEN backend_type = 'client backend' THEN 'unknown' ELSE 'background' END)",
    },
    {
      name: 'wait_event_type',
      type: 'text',
      sql: "coalesce(wait_event_type, CASE WHEN state = 'active' THEN 'CPU' ELSE '' END)",
    },
    { name: 'backend_type', type: 'text', sql: "coalesce(backend_type, '')" },
    { name: 'sessions', type: 'int8', sql: 'count(*)' },
    {
      name: 'max_xact_age_seconds',
      type: 'float8',
      sql: 'coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8',
    },
    {
      name: 'max_active_query_seconds',
      type: 'float8',
      sql: "coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) FILTER (WHERE state = 'active'), 0)::float8",
    },
    {
      name: 'max_idle_in_transaction_seconds',
      type: 'float8',
      sql: "coalesce(max(extract(epoch FROM clock_timestamp() - state_change)) FILTER (WHERE state LIKE 'idle in transaction%'), 0)::float8",
    },
  ],
  sql: (select) =>
    `SELECT ${select} FROM pg_stat_activity WHERE pid <> pg_backend_pid() GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
});
