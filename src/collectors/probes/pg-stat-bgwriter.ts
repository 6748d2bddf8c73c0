import { defineProbe } from './define-probe.js';

/**
 * The background writer, plus (until 16) the checkpoint and backend-write counters that
 * pg_stat_bgwriter carried then, under their own names; pg_stat_checkpointer has the
 * checkpoint counters on every version.
 */
export const pgStatBgwriter = defineProbe({
  name: 'pg_stat_bgwriter',
  scope: 'server',
  description:
    'Background writer: buffers cleaned and allocated, cleaning stops, backend writes until PG16',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: [],
  columns: [
    { name: 'buffers_clean', type: 'int8' },
    { name: 'maxwritten_clean', type: 'int8' },
    { name: 'buffers_alloc', type: 'int8' },
    { name: 'buffers_backend', type: 'int8', until: 16 },
    { name: 'buffers_backend_fsync', type: 'int8', until: 16 },
    { name: 'checkpoints_timed', type: 'int8', until: 16 },
    { name: 'checkpoints_req', type: 'int8', until: 16 },
    { name: 'checkpoint_write_time', type: 'float8', until: 16 },
    { name: 'checkpoint_sync_time', type: 'float8', until: 16 },
    { name: 'buffers_checkpoint', type: 'int8', until: 16 },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_stat_bgwriter`,
});
