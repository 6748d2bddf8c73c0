import { defineProbe } from './define-probe.js';

/** Cumulative; rates come from differences between samples. PG18 adds WAL rows (object 'wal'). */
export const pgStatIo = defineProbe({
  name: 'pg_stat_io',
  scope: 'server',
  description:
    'I/O by backend type, object and context: reads, writes, extends, hits, evictions, fsyncs, times',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  requires: { minMajor: 16 },
  key: ['backend_type', 'object', 'context'],
  columns: [
    { name: 'backend_type', type: 'text' },
    { name: 'object', type: 'text' },
    { name: 'context', type: 'text' },
    { name: 'reads', type: 'int8' },
    { name: 'read_bytes', type: 'int8', sql: 'read_bytes::int8', since: 18 },
    { name: 'read_time', type: 'float8' },
    { name: 'writes', type: 'int8' },
    { name: 'write_bytes', type: 'int8', sql: 'write_bytes::int8', since: 18 },
    { name: 'write_time', type: 'float8' },
    { name: 'writebacks', type: 'int8' },
    { name: 'writeback_time', type: 'float8' },
    { name: 'extends', type: 'int8' },
    { name: 'extend_bytes', type: 'int8', sql: 'extend_bytes::int8', since: 18 },
    { name: 'extend_time', type: 'float8' },
    // Until 17 every operation moved op_bytes; 18 reports bytes per operation kind instead.
    { name: 'op_bytes', type: 'int8', until: 17 },
    { name: 'hits', type: 'int8' },
    { name: 'evictions', type: 'int8' },
    { name: 'reuses', type: 'int8' },
    { name: 'fsyncs', type: 'int8' },
    { name: 'fsync_time', type: 'float8' },
    { name: 'stats_reset', type: 'timestamptz' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_stat_io ORDER BY backend_type, object, context`,
});
