import { defineProbe } from './define-probe.js';

/** Queries cancelled on a standby by replay conflicts; all zero on a primary. */
export const pgStatDatabaseConflicts = defineProbe({
  name: 'pg_stat_database_conflicts',
  scope: 'database',
  description: 'Standby queries cancelled by recovery conflicts, by cause (locks, snapshots, ...)',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['datname'],
  columns: [
    { name: 'datid', type: 'int8', sql: 'datid::int8' },
    { name: 'datname', type: 'text' },
    { name: 'confl_tablespace', type: 'int8' },
    { name: 'confl_lock', type: 'int8' },
    { name: 'confl_snapshot', type: 'int8' },
    { name: 'confl_bufferpin', type: 'int8' },
    { name: 'confl_deadlock', type: 'int8' },
    { name: 'confl_active_logicalslot', type: 'int8', since: 16 },
  ],
  sql: (select) =>
    `SELECT ${select} FROM pg_stat_database_conflicts WHERE datname = current_database()`,
});
