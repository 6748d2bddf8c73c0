import { defineProbe } from './define-probe.js';

/**
 * PG17 moved checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer; before 17 the
 * same counters are read from pg_stat_bgwriter under the new names, so one series spans
 * upgrades. Restartpoints (standbys) are counted only from 17 on.
 */
export const pgStatCheckpointer = defineProbe({
  name: 'pg_stat_checkpointer',
  scope: 'server',
  description:
    'Checkpoints and restartpoints: timed vs requested, buffers written, write and sync time',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: [],
  columns: [
    { name: 'num_timed', type: 'int8', sql: 'checkpoints_timed', until: 16 },
    { name: 'num_timed', type: 'int8', since: 17 },
    { name: 'num_requested', type: 'int8', sql: 'checkpoints_req', until: 16 },
    { name: 'num_requested', type: 'int8', since: 17 },
    { name: 'num_done', type: 'int8', since: 18 },
    { name: 'restartpoints_timed', type: 'int8', since: 17 },
    { name: 'restartpoints_req', type: 'int8', since: 17 },
    { name: 'restartpoints_done', type: 'int8', since: 17 },
    { name: 'write_time', type: 'float8', sql: 'checkpoint_write_time', until: 16 },
    { name: 'write_time', type: 'float8', since: 17 },
    { name: 'sync_time', type: 'float8', sql: 'checkpoint_sync_time', until: 16 },
    { name: 'sync_time', type: 'float8', since: 17 },
    { name: 'buffers_written', type: 'int8', sql: 'buffers_checkpoint', until: 16 },
    { name: 'buffers_written', type: 'int8', since: 17 },
    { name: 'slru_written', type: 'int8', since: 18 },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  sql: (select, { facts }) =>
    `SELECT ${select} FROM ${facts.major >= 17 ? 'pg_stat_checkpointer' : 'pg_stat_bgwriter'}`,
});
