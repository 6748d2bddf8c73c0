import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/** Invalid indexes are rare; the cap only guards against a pathological schema. */
const MAX_INDEXES = 500;

/**
 * Indexes a failed or running CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY left behind:
 * not used by queries (not valid) yet, if ready, still updated on every write. An index on a
 * partitioned table is also invalid while some partition lacks its index.
 */
export const pgInvalidIndexes = defineProbe({
  name: 'pg_invalid_indexes',
  scope: 'database',
  description: 'Invalid or not-ready indexes (failed concurrent builds) with size and definition',
  intervalMs: 10 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: ['schemaname', 'indexrelname'],
  columns: [
    { name: 'schemaname', type: 'text', sql: 'n.nspname' },
    { name: 'relname', type: 'text', sql: 't.relname' },
    { name: 'indexrelname', type: 'text', sql: 'ic.relname' },
    { name: 'indisvalid', type: 'bool', sql: 'i.indisvalid' },
    { name: 'indisready', type: 'bool', sql: 'i.indisready' },
    {
      name: 'index_size_bytes',
      type: 'int8',
      sql: sizeUnlessBusySql('pg_relation_size', 'i.indexrelid'),
    },
    // pg_get_indexdef locks the index's table: NULL rather than wait behind a lock on it.
    {
      name: 'definition',
      type: 'text',
      sql: `CASE WHEN i.indrelid = ANY (busy.oids) OR i.indexrelid = ANY (busy.oids)
                 THEN NULL ELSE pg_get_indexdef(i.indexrelid) END`,
    },
  ],
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE}
     SELECT ${select}
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = ic.relnamespace
      CROSS JOIN busy
      WHERE NOT i.indisvalid OR NOT i.indisready
      ORDER BY n.nspname, ic.relname
      LIMIT ${MAX_INDEXES}`,
});
