import { defineProbe } from './define-probe.js';
import { secondsSql } from './maintenance-sql.js';

/**
 * Lock counts grouped in SQL, so the result stays small however long the lock table is. Every
 * database counts, monitored or not: a lock pile-up anywhere shares the one lock table. Our own
 * session's locks (on pg_locks' inputs) are left out as noise.
 */
export const pgLocks = defineProbe({
  name: 'pg_locks',
  scope: 'server',
  description: 'Locks held and awaited by database, lock type and mode, with waiting sessions',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['datname', 'locktype', 'mode', 'granted'],
  columns: [
    // '' for locks on shared catalogs and on transaction ids, which belong to no database.
    { name: 'datname', type: 'text', sql: "coalesce(d.datname, '')" },
    { name: 'locktype', type: 'text', sql: 'l.locktype' },
    { name: 'mode', type: 'text', sql: 'l.mode' },
    { name: 'granted', type: 'bool', sql: 'l.granted' },
    { name: 'locks', type: 'int8', sql: 'count(*)' },
    { name: 'sessions', type: 'int8', sql: 'count(DISTINCT l.pid)' },
    { name: 'fastpath_locks', type: 'int8', sql: 'count(*) FILTER (WHERE l.fastpath)' },
    {
      name: 'waiting_sessions',
      type: 'int8',
      sql: 'count(DISTINCT l.pid) FILTER (WHERE NOT l.granted)',
    },
    // NULL for granted locks, and for a wait so fresh that waitstart is not yet set.
    {
      name: 'max_wait_seconds',
      type: 'float8',
      sql: secondsSql('max(clock_timestamp() - l.waitstart)'),
      since: 14,
    },
  ],
  sql: (select) =>
    `SELECT ${select}
       FROM pg_locks l
       LEFT JOIN pg_database d ON d.oid = l.database
      WHERE l.pid IS DISTINCT FROM pg_backend_pid()
      GROUP BY coalesce(d.datname, ''), l.locktype, l.mode, l.granted
      ORDER BY 1, 2, 3, 4`,
});
