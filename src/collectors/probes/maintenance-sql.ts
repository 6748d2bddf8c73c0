/**
 * The size functions (pg_relation_size, pg_table_size, pg_total_relation_size) take an
 * AccessShareLock on the relation, its TOAST table and its indexes. Behind an ACCESS EXCLUSIVE
 * lock, held or queued (ALTER TABLE, VACUUM FULL, REINDEX, TRUNCATE), they would wait until
 * lock_timeout and fail the whole probe. This CTE lists the tables whose size cannot be read
 * without waiting, read once per statement from pg_locks, so those sizes come back NULL instead.
 * An index lock marks its table, a TOAST lock its owner; the lookups run only per locked
 * relation, so an idle server pays one pg_locks read.
 */
export const BUSY_RELATIONS_CTE = `busy AS (
  SELECT coalesce(array_agg(b.oid) FILTER (WHERE b.oid IS NOT NULL), '{}'::oid[]) AS oids
    FROM pg_locks l
   CROSS JOIN LATERAL (SELECT coalesce((SELECT i.indrelid FROM pg_index i
                                         WHERE i.indexrelid = l.relation), l.relation) AS rel) r
   CROSS JOIN LATERAL (VALUES (l.relation), (r.rel),
                              ((SELECT t.oid FROM pg_class t WHERE t.reltoastrelid = r.rel))) b (oid)
   WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
     AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
)`;

/**
 * `fn(oid)` unless the relation is in `busy` (see BUSY_RELATIONS_CTE, which the statement must
 * define and join).
 */
export function sizeUnlessBusySql(fn: string, oid: string): string {
  return `CASE WHEN ${oid} = ANY (busy.oids) THEN NULL ELSE ${fn}(${oid}) END`;
}

/** An interval expression as seconds. */
export function secondsSql(interval: string): string {
  return `extract(epoch FROM ${interval})::float8`;
}
