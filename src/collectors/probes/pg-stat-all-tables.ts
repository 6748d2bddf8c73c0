import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/**
 * Activity and I/O counters of every table, system catalogs and TOAST tables included (catalog
 * churn from temporary tables is a classic hidden cost), with sizes from the files' lengths.
 */
export const pgStatAllTables = defineProbe({
  name: 'pg_stat_all_tables',
  scope: 'database',
  description:
    'Per table: scans, row changes, live and dead rows, vacuum and analyze history, block I/O, size',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['schemaname', 'relname'],
  columns: [
    { name: 'relid', type: 'int8', sql: 's.relid::int8' },
    { name: 'schemaname', type: 'text', sql: 's.schemaname' },
    { name: 'relname', type: 'text', sql: 's.relname' },
    { name: 'seq_scan', type: 'int8', sql: 's.seq_scan' },
    { name: 'last_seq_scan', type: 'timestamptz', sql: 's.last_seq_scan', since: 16 },
    { name: 'seq_tup_read', type: 'int8', sql: 's.seq_tup_read' },
    { name: 'idx_scan', type: 'int8', sql: 's.idx_scan' },
    { name: 'last_idx_scan', type: 'timestamptz', sql: 's.last_idx_scan', since: 16 },
    { name: 'idx_tup_fetch', type: 'int8', sql: 's.idx_tup_fetch' },
    { name: 'n_tup_ins', type: 'int8', sql: 's.n_tup_ins' },
    { name: 'n_tup_upd', type: 'int8', sql: 's.n_tup_upd' },
    { name: 'n_tup_del', type: 'int8', sql: 's.n_tup_del' },
    { name: 'n_tup_hot_upd', type: 'int8', sql: 's.n_tup_hot_upd' },
    { name: 'n_tup_newpage_upd', type: 'int8', sql: 's.n_tup_newpage_upd', since: 16 },
    { name: 'n_live_tup', type: 'int8', sql: 's.n_live_tup' },
    { name: 'n_dead_tup', type: 'int8', sql: 's.n_dead_tup' },
    { name: 'n_mod_since_analyze', type: 'int8', sql: 's.n_mod_since_analyze' },
    { name: 'n_ins_since_vacuum', type: 'int8', sql: 's.n_ins_since_vacuum', since: 13 },
    { name: 'last_vacuum', type: 'timestamptz', sql: 's.last_vacuum' },
    { name: 'last_autovacuum', type: 'timestamptz', sql: 's.last_autovacuum' },
    { name: 'last_analyze', type: 'timestamptz', sql: 's.last_analyze' },
    { name: 'last_autoanalyze', type: 'timestamptz', sql: 's.last_autoanalyze' },
    { name: 'vacuum_count', type: 'int8', sql: 's.vacuum_count' },
    { name: 'autovacuum_count', type: 'int8', sql: 's.autovacuum_count' },
    { name: 'analyze_count', type: 'int8', sql: 's.analyze_count' },
    { name: 'autoanalyze_count', type: 'int8', sql: 's.autoanalyze_count' },
    // Milliseconds spent, cumulative.
    { name: 'total_vacuum_time', type: 'float8', sql: 's.total_vacuum_time', since: 18 },
    { name: 'total_autovacuum_time', type: 'float8', sql: 's.total_autovacuum_time', since: 18 },
    { name: 'total_analyze_time', type: 'float8', sql: 's.total_analyze_time', since: 18 },
    {
      name: 'total_autoanalyze_time',
      type: 'float8',
      sql: 's.total_autoanalyze_time',
      since: 18,
    },
    { name: 'heap_blks_read', type: 'int8', sql: 'io.heap_blks_read' },
    { name: 'heap_blks_hit', type: 'int8', sql: 'io.heap_blks_hit' },
    { name: 'idx_blks_read', type: 'int8', sql: 'io.idx_blks_read' },
    { name: 'idx_blks_hit', type: 'int8', sql: 'io.idx_blks_hit' },
    { name: 'toast_blks_read', type: 'int8', sql: 'io.toast_blks_read' },
    { name: 'toast_blks_hit', type: 'int8', sql: 'io.toast_blks_hit' },
    { name: 'tidx_blks_read', type: 'int8', sql: 'io.tidx_blks_read' },
    { name: 'tidx_blks_hit', type: 'int8', sql: 'io.tidx_blks_hit' },
    // Heap with its TOAST, free space and visibility maps; then with indexes too. NULL while an
    // ACCESS EXCLUSIVE lock is held or awaited on the table (see BUSY_RELATIONS_CTE).
    {
      name: 'table_size_bytes',
      type: 'int8',
      sql: sizeUnlessBusySql('pg_table_size', 's.relid'),
    },
    {
      name: 'total_size_bytes',
      type: 'int8',
      sql: sizeUnlessBusySql('pg_total_relation_size', 's.relid'),
    },
  ],
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE}
     SELECT ${select}
       FROM pg_stat_all_tables s
       LEFT JOIN pg_statio_all_tables io ON io.relid = s.relid
      CROSS JOIN busy
      ORDER BY s.schemaname, s.relname`,
});
