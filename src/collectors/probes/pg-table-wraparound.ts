import { defineProbe } from './define-probe.js';
import { BUSY_RELATIONS_CTE, sizeUnlessBusySql } from './maintenance-sql.js';

/** Only the oldest tables matter for wraparound; a cap keeps huge schemas cheap. */
const MAX_TABLES = 500;

/** Transaction ids are compared modulo 2^32, so a table can fall at most 2^31 behind. */
const XID_WRAP_LIMIT = 2 ** 31;

/**
 * Tables (heaps, materialized views, TOAST tables) by age of their oldest unfrozen xid: how near
 * the forced anti-wraparound autovacuum (at the effective autovacuum_freeze_max_age) and the
 * wraparound shutdown they are. A per-table autovacuum_freeze_max_age counts only when lower
 * than the server's, as autovacuum ignores larger ones. Other sessions' temporary tables are
 * kept: autovacuum cannot freeze them, so only their owner can.
 */
export const pgTableWraparound = defineProbe({
  name: 'pg_table_wraparound',
  scope: 'database',
  description: `The ${MAX_TABLES} tables with the oldest unfrozen xids: age, % to forced autovacuum and to wraparound`,
  intervalMs: 10 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  key: ['schemaname', 'relname'],
  columns: [
    { name: 'schemaname', type: 'text', sql: 't.schemaname' },
    { name: 'relname', type: 'text', sql: 't.relname' },
    { name: 'relkind', type: 'text', sql: 't.relkind::text' },
    // For a TOAST table, the table it belongs to; NULL otherwise.
    { name: 'toast_of', type: 'text', sql: 't.toast_of' },
    { name: 'xid_age', type: 'int8', sql: 't.xid_age' },
    { name: 'mxid_age', type: 'int8', sql: 't.mxid_age' },
    { name: 'freeze_max_age', type: 'int8', sql: 't.freeze_max_age' },
    {
      name: 'pct_towards_wraparound',
      type: 'float8',
      sql: `(t.xid_age::float8 / ${XID_WRAP_LIMIT} * 100)`,
    },
    {
      name: 'pct_towards_forced_autovacuum',
      type: 'float8',
      sql: '(t.xid_age::float8 / t.freeze_max_age * 100)',
    },
    {
      name: 'table_size_bytes',
      type: 'int8',
      sql: sizeUnlessBusySql('pg_table_size', 't.oid'),
    },
  ],
  // Sizes are computed in the outer query, after the cap, not for every table.
  sql: (select) =>
    `WITH ${BUSY_RELATIONS_CTE}
     SELECT ${select}
       FROM (SELECT c.oid, n.nspname AS schemaname, c.relname, c.relkind,
                    age(c.relfrozenxid)::int8 AS xid_age,
                    mxid_age(c.relminmxid)::int8 AS mxid_age,
                    least(s.setting,
                          coalesce((SELECT substring(o FROM '^autovacuum_freeze_max_age=([0-9]+)$')::int8
                                      FROM unnest(c.reloptions) o
                                     WHERE o LIKE 'autovacuum_freeze_max_age=%'), s.setting))
                      AS freeze_max_age,
                    p.oid::regclass::text AS toast_of
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_class p ON c.relkind = 't' AND p.reltoastrelid = c.oid
              CROSS JOIN (SELECT current_setting('autovacuum_freeze_max_age')::int8 AS setting) s
              WHERE c.relkind IN ('r', 'm', 't')
              ORDER BY age(c.relfrozenxid) DESC
              LIMIT ${MAX_TABLES}) t
      CROSS JOIN busy
      ORDER BY t.xid_age DESC, t.schemaname, t.relname`,
});
