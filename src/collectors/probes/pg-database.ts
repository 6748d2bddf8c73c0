import { defineProbe } from './define-probe.js';

/**
 * Every database of the cluster, with transaction ID wraparound headroom and size. Sizes need
 * CONNECT on the database or pg_read_all_stats (part of pg_monitor); without either the size is
 * NULL rather than an error. Databases left invalid by an interrupted DROP (datconnlimit -2)
 * are listed but not measured.
 */
export const pgDatabase = defineProbe({
  name: 'pg_database',
  scope: 'server',
  description:
    'Databases: owner, encoding, connection limits, frozen XID age and wraparound headroom, size',
  intervalMs: 5 * 60_000,
  retentionDays: 7,
  enabledByDefault: true,
  key: ['datname'],
  columns: [
    { name: 'datname', type: 'text', sql: 'd.datname' },
    { name: 'datdba', type: 'int8', sql: 'd.datdba::int8' },
    { name: 'owner', type: 'text', sql: 'pg_get_userbyid(d.datdba)' },
    { name: 'encoding', type: 'text', sql: 'pg_encoding_to_char(d.encoding)' },
    { name: 'datlocprovider', type: 'text', sql: 'd.datlocprovider::text', since: 15 },
    { name: 'datcollate', type: 'text', sql: 'd.datcollate::text' },
    { name: 'datctype', type: 'text', sql: 'd.datctype::text' },
    { name: 'datistemplate', type: 'bool', sql: 'd.datistemplate' },
    { name: 'datallowconn', type: 'bool', sql: 'd.datallowconn' },
    { name: 'datconnlimit', type: 'int8', sql: 'd.datconnlimit' },
    { name: 'datfrozenxid', type: 'text', sql: 'd.datfrozenxid::text' },
    { name: 'datminmxid', type: 'text', sql: 'd.datminmxid::text' },
    { name: 'age_datfrozenxid', type: 'int8', sql: 'age(d.datfrozenxid)' },
    { name: 'age_datminmxid', type: 'int8', sql: 'mxid_age(d.datminmxid)' },
    // Share of the 2^31 XIDs after which the server stops assigning new ones.
    {
      name: 'wraparound_pct',
      type: 'float8',
      sql: 'age(d.datfrozenxid)::float8 / 2147483648 * 100',
    },
    {
      name: 'database_size_bytes',
      type: 'int8',
      sql: `CASE WHEN d.datconnlimit <> -2
                 AND (has_database_privilege(d.oid, 'CONNECT')
                      OR pg_has_role('pg_read_all_stats', 'USAGE'))
            THEN pg_database_size(d.oid) END`,
    },
    { name: 'tablespace', type: 'text', sql: 't.spcname' },
  ],
  sql: (select) => `
    SELECT ${select}
      FROM pg_database d
      LEFT JOIN pg_tablespace t ON t.oid = d.dattablespace
     ORDER BY d.datname`,
});
