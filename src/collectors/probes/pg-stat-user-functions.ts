import { defineProbe } from './define-probe.js';

/** Empty unless track_functions is pl or all. Keyed by oid: overloads share a name. */
export const pgStatUserFunctions = defineProbe({
  name: 'pg_stat_user_functions',
  scope: 'database',
  description: 'Per function: calls, total and self time (needs track_functions = pl or all)',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['funcid'],
  columns: [
    { name: 'funcid', type: 'int8', sql: 'funcid::int8' },
    { name: 'schemaname', type: 'text' },
    { name: 'funcname', type: 'text' },
    { name: 'calls', type: 'int8' },
    // Milliseconds, cumulative.
    { name: 'total_time', type: 'float8' },
    { name: 'self_time', type: 'float8' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_stat_user_functions ORDER BY funcid`,
});
