import { defineProbe } from './define-probe.js';

export const pgStatioAllSequences = defineProbe({
  name: 'pg_statio_all_sequences',
  scope: 'database',
  description: 'Per sequence: blocks read from disk and found in shared buffers',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['schemaname', 'relname'],
  columns: [
    { name: 'relid', type: 'int8', sql: 'relid::int8' },
    { name: 'schemaname', type: 'text' },
    { name: 'relname', type: 'text' },
    { name: 'blks_read', type: 'int8' },
    { name: 'blks_hit', type: 'int8' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_statio_all_sequences ORDER BY schemaname, relname`,
});
