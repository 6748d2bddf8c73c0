import { defineProbe } from '../probes/define-probe.js';
import type { ProbeColumnSpec } from '../probes/probe-spec.js';
import { readShow } from './show-rows.js';

const counter = (name: string): ProbeColumnSpec => ({ name, type: 'int8' });

/** Every SHOW STATS column known, oldest first; times are microseconds, as PgBouncer reports. */
const COLUMNS: readonly ProbeColumnSpec[] = [
  { name: 'database', type: 'text' },
  ...[
    'total_xact_count',
    'total_query_count',
    'total_received',
    'total_sent',
    'total_xact_time',
    'total_query_time',
    'total_wait_time',
    'avg_xact_count',
    'avg_query_count',
    'avg_recv',
    'avg_sent',
    'avg_xact_time',
    'avg_query_time',
    'avg_wait_time',
    // Newer releases: server assignments, prepared statements, client logins.
    'total_server_assignment_count',
    'avg_server_assignment_count',
    'total_client_parse_count',
    'total_server_parse_count',
    'total_bind_count',
    'avg_client_parse_count',
    'avg_server_parse_count',
    'avg_bind_count',
    'total_client_login_count',
    'avg_client_login_count',
    // Before 1.8, transactions and queries were one "request" counter.
    'total_requests',
    'avg_req',
    'avg_query',
  ].map(counter),
];

/** Traffic and time per database through the pooler, since it started. */
export const pgbouncerStats = defineProbe({
  name: 'pgbouncer_stats',
  scope: 'server',
  targetKind: 'pgbouncer',
  description: 'PgBouncer SHOW STATS: transactions, queries, bytes and wait time per database',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['database'],
  columns: COLUMNS,
  // SHOW cannot be part of a SELECT, so the select list is of no use here.
  read: (ctx) => readShow(ctx, 'SHOW STATS', COLUMNS),
});
