import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/**
 * pg_get_indexdef locks the index's table (unlike pg_relation_size on the index): behind an
 * ACCESS EXCLUSIVE lock on the table it would wait until lock_timeout and fail the whole probe.
 */
const DEFINITION_UNLESS_BUSY = `CASE WHEN u.relid = ANY (busy.oids) OR u.indexrelid = ANY (busy.oids)
                                     THEN NULL ELSE pg_get_indexdef(u.indexrelid) END`;

/** Largest first: the rows worth acting on, and a bound on what a huge schema stores. */
const MAX_INDEXES = 500;

/**
 * Indexes never scanned since the statistics were last reset, that nothing else needs: not
 * backing a unique, primary-key or exclusion constraint, not the replica identity, and valid
 * (invalid ones are pg_invalid_indexes' business). System schemas are left out. stats_since
 * bounds the window: the database's statistics reset, else the server start. From PG15 the
 * counters also survive a clean restart, so the window may be longer than it says, never
 * shorter (short of a crash, which discards them).
 */
export const pgUnusedIndexes = defineProbe({
  name: 'pg_unused_indexes',
  scope: 'database',
  description: 'Indexes never scanned and not needed by a constraint: drop candidates, with size',
  intervalMs: 60 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: ['schemaname', 'indexrelname'],
  columns: [
    { name: 'schemaname', type: 'text', sql: 's.schemaname' },
    { name: 'relname', type: 'text', sql: 's.relname' },
    { name: 'indexrelname', type: 'text', sql: 's.indexrelname' },
    { name: 'index_size_bytes', type: 'int8', sql: 's.index_size_bytes' },
    { name: 'idx_scan', type: 'int8', sql: 's.idx_scan' },
    {
      name: 'stats_since',
      type: 'timestamptz',
      sql: `(SELECT coalesce(d.stats_reset, pg_postmaster_start_time())
               FROM pg_stat_database d WHERE d.datname = current_database())`,
    },
    { name: 'definition', type: 'text', sql: 's.definition' },
  ],
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE}
     SELECT ${select}
       FROM (SELECT u.*, ${sizeUnlessBusySql('pg_relation_size', 'u.indexrelid')} AS index_size_bytes,
                    ${DEFINITION_UNLESS_BUSY} AS definition
               FROM pg_stat_all_indexes u
               JOIN pg_index i ON i.indexrelid = u.indexrelid
              CROSS JOIN busy
              WHERE u.idx_scan = 0
                AND NOT (i.indisunique OR i.indisprimary OR i.indisexclusion OR i.indisreplident)
                AND i.indisvalid
                AND u.schemaname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                AND u.schemaname !~ '^pg_(toast_)?temp_'
              ORDER BY index_size_bytes DESC NULLS LAST, u.schemaname, u.indexrelname
              LIMIT ${MAX_INDEXES}) s
      ORDER BY s.index_size_bytes DESC NULLS LAST, s.schemaname, s.indexrelname`,
});
