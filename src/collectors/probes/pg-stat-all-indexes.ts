import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/** Scan and block I/O counters of every index, system catalogs included, with its size. */
export const pgStatAllIndexes = defineProbe({
  name: 'pg_stat_all_indexes',
  scope: 'database',
  description: 'Per index: scans, tuples read and fetched, last scan, block I/O and size',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['schemaname', 'relname', 'indexrelname'],
  columns: [
    { name: 'relid', type: 'int8', sql: 's.relid::int8' },
    { name: 'indexrelid', type: 'int8', sql: 's.indexrelid::int8' },
    { name: 'schemaname', type: 'text', sql: 's.schemaname' },
    { name: 'relname', type: 'text', sql: 's.relname' },
    { name: 'indexrelname', type: 'text', sql: 's.indexrelname' },
    { name: 'idx_scan', type: 'int8', sql: 's.idx_scan' },
    { name: 'last_idx_scan', type: 'timestamptz', sql: 's.last_idx_scan', since: 16 },
    { name: 'idx_tup_read', type: 'int8', sql: 's.idx_tup_read' },
    { name: 'idx_tup_fetch', type: 'int8', sql: 's.idx_tup_fetch' },
    { name: 'idx_blks_read', type: 'int8', sql: 'io.idx_blks_read' },
    { name: 'idx_blks_hit', type: 'int8', sql: 'io.idx_blks_hit' },
    // NULL while an ACCESS EXCLUSIVE lock is held or awaited on it (REINDEX, DROP INDEX).
    {
      name: 'index_size_bytes',
      type: 'int8',
      sql: sizeUnlessBusySql('pg_relation_size', 's.indexrelid'),
    },
  ],
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE}
     SELECT ${select}
       FROM pg_stat_all_indexes s
       LEFT JOIN pg_statio_all_indexes io ON io.indexrelid = s.indexrelid
      CROSS JOIN busy
      ORDER BY s.schemaname, s.relname, s.indexrelname`,
});
