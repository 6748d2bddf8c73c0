import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/** The worst tables are what a DBA acts on; the cap bounds the rows stored. */
const MAX_TABLES = 200;

/**
 * Estimated heap bloat per table, the well-known way: expected pages from the row count and
 * average row width (pg_stats: avg_width, null_frac), tuple header and item pointer, 8-byte
 * alignment (every supported 64-bit platform) and fillfactor, against the pages the table has.
 * relpages and reltuples come from the same VACUUM/ANALYZE, so they agree with each other; the
 * resulting share is applied to the heap's current size. TOAST is not estimated: avg_width
 * counts a toasted value as its pointer, which is what the heap holds.
 *
 * Where pg_stats lacks any column of a table (never analyzed, or the role may not read the
 * table's columns: pg_stats shows only what the role could SELECT, so pg_monitor sees no user
 * tables there), the dead-row share from pg_stat_all_tables stands in, and `method` says which.
 * GRANT SELECT on the tables (or pg_read_all_data, PG14+) unlocks the statistics method.
 *
 * System catalogs are kept: catalog bloat (pg_attribute, pg_class under temporary-table churn)
 * is a real problem, and they add a few dozen tables to what the statement reads anyway.
 * Temporary tables are left out: they vanish with their session and no one else can vacuum them.
 */
export const pgTableBloat = defineProbe({
  name: 'pg_table_bloat',
  scope: 'database',
  description: `Estimated table bloat (from statistics, else dead rows) for the ${MAX_TABLES} most bloated tables`,
  intervalMs: 60 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: ['schemaname', 'relname'],
  columns: [
    { name: 'schemaname', type: 'text', sql: 'e.schemaname' },
    { name: 'relname', type: 'text', sql: 'e.relname' },
    // The heap's main fork only, what the estimate covers (pg_stat_all_tables' includes TOAST).
    { name: 'table_size_bytes', type: 'int8', sql: 'e.table_size_bytes' },
    {
      name: 'estimated_bloat_bytes',
      type: 'int8',
      sql: 'round(e.table_size_bytes * e.bloat_pct / 100)::int8',
    },
    { name: 'bloat_pct', type: 'float8', sql: 'e.bloat_pct' },
    { name: 'method', type: 'text', sql: 'e.method' },
    { name: 'fillfactor', type: 'int8', sql: 'e.fillfactor' },
  ],
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE},
     widths AS (
       SELECT a.attrelid AS oid,
              count(*) AS natts,
              count(s.attname) AS nstats,
              bool_or(coalesce(s.null_frac, 0) > 0) AS has_nulls,
              sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS data_width
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
                             AND s.attname = a.attname AND NOT s.inherited
        WHERE a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
        GROUP BY a.attrelid
     ),
     tables AS (
       SELECT c.oid, n.nspname AS schemaname, c.relname, c.relpages, c.reltuples,
              coalesce((SELECT substring(o FROM '^fillfactor=([0-9]+)$')::int8
                          FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
              w.natts, w.has_nulls, w.data_width,
              w.nstats = w.natts AND c.reltuples >= 0 AND c.relpages > 0 AS has_stats,
              st.n_live_tup, st.n_dead_tup
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN widths w ON w.oid = c.oid
         LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
        WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
     ),
     estimates AS (
       SELECT t.oid, t.schemaname, t.relname, t.fillfactor,
              CASE WHEN t.has_stats THEN 'statistics' ELSE 'dead_tuples' END AS method,
              CASE WHEN t.has_stats
                   THEN greatest(t.relpages - ceil(t.reltuples / (
                          (current_setting('block_size')::numeric - 24) * t.fillfactor / 100
                          / (4 + ceil((23 + CASE WHEN t.has_nulls THEN (t.natts + 7) / 8 ELSE 0 END)
                                      / 8.0) * 8
                                 + ceil(t.data_width / 8.0) * 8)
                        )), 0)::float8 / t.relpages * 100
                   ELSE coalesce(t.n_dead_tup::float8
                                 / nullif(t.n_live_tup + t.n_dead_tup, 0) * 100, 0)
              END AS bloat_pct,
              ${sizeUnlessBusySql('pg_relation_size', 't.oid')} AS table_size_bytes
         FROM tables t
        CROSS JOIN busy
     )
     SELECT ${select}
       FROM estimates e
      ORDER BY e.table_size_bytes * e.bloat_pct DESC NULLS LAST, e.schemaname, e.relname
      LIMIT ${MAX_TABLES}`,
});
