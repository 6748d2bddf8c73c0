import { defineProbe } from './define-probe.js';

/** Sequences nearest their limit first; the rest of a huge schema adds nothing. */
const MAX_SEQUENCES = 500;

/**
 * How far each sequence has moved through its range. Reads pg_sequence like the pg_sequences
 * view does (same filter on other sessions' temporary schemas) but keeps the oid, to check the
 * privilege once and to skip unlogged sequences on a standby, where reading them fails on older
 * minor releases.
 *
 * Least privilege: the current value needs USAGE or SELECT on the sequence, which pg_monitor
 * lacks. Those rows come with readable = false and NULL last_value and pct_used. GRANT SELECT ON
 * ALL SEQUENCES IN SCHEMA ... (or, from PG14, membership in pg_read_all_data) unlocks them.
 *
 * Reading the value locks the sequence in RowExclusiveLock; one locked against that (ALTER
 * SEQUENCE, DROP) would make the probe wait into lock_timeout, so it is skipped this run: NULL
 * last_value and pct_used with readable = true. A sequence never called has no last value
 * either; its start value stands in, so one created near its limit still shows how little is
 * left. Arithmetic is numeric: bigint ranges overflow int8.
 */
export const pgSequenceExhaustion = defineProbe({
  name: 'pg_sequence_exhaustion',
  scope: 'database',
  description: 'Sequences by share of their range used, nearest to exhaustion first',
  intervalMs: 10 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: ['schemaname', 'sequencename'],
  columns: [
    { name: 'schemaname', type: 'text', sql: 'q.schemaname' },
    { name: 'sequencename', type: 'text', sql: 'q.sequencename' },
    { name: 'data_type', type: 'text', sql: 'q.data_type' },
    { name: 'start_value', type: 'int8', sql: 'q.start_value' },
    { name: 'min_value', type: 'int8', sql: 'q.min_value' },
    { name: 'max_value', type: 'int8', sql: 'q.max_value' },
    { name: 'increment_by', type: 'int8', sql: 'q.increment_by' },
    { name: 'cycle', type: 'bool', sql: 'q.cycle' },
    { name: 'last_value', type: 'int8', sql: 'q.last_value' },
    { name: 'readable', type: 'bool', sql: 'q.readable' },
    { name: 'pct_used', type: 'float8', sql: 'q.pct_used' },
  ],
  sql: (select) =>
    `WITH locked AS (
       SELECT coalesce(array_agg(l.relation), '{}'::oid[]) AS oids
         FROM pg_locks l
        WHERE l.locktype = 'relation'
          AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
          AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
     )
     SELECT ${select}
       FROM (SELECT r.*,
                    CASE WHEN NOT r.readable OR r.skipped THEN NULL
                         WHEN r.increment_by > 0
                         THEN (coalesce(r.last_value, r.start_value)::numeric - r.min_value)
                              / (r.max_value::numeric - r.min_value) * 100
                         ELSE (r.max_value::numeric - coalesce(r.last_value, r.start_value))
                              / (r.max_value::numeric - r.min_value) * 100
                    END::float8 AS pct_used
               FROM (SELECT v.*,
                            CASE WHEN v.readable AND NOT v.skipped
                                 THEN pg_sequence_last_value(v.oid) END AS last_value
                       FROM (SELECT c.oid, n.nspname AS schemaname, c.relname AS sequencename,
                                    s.seqtypid::regtype::text AS data_type,
                                    s.seqstart AS start_value, s.seqmin AS min_value,
                                    s.seqmax AS max_value, s.seqincrement AS increment_by,
                                    s.seqcycle AS cycle,
                                    has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
                                    c.oid = ANY (locked.oids)
                                      OR (c.relpersistence = 'u' AND pg_is_in_recovery()) AS skipped
                               FROM pg_sequence s
                               JOIN pg_class c ON c.oid = s.seqrelid
                               JOIN pg_namespace n ON n.oid = c.relnamespace
                              CROSS JOIN locked
                              WHERE c.relkind = 'S' AND NOT pg_is_other_temp_schema(n.oid)) v) r) q
      ORDER BY q.pct_used DESC NULLS LAST, q.schemaname, q.sequencename
      LIMIT ${MAX_SEQUENCES}`,
});
