import { defineProbe } from './define-probe.js';

/**
 * Installed extensions and whether the server's files offer a newer default version (after a
 * package upgrade, until ALTER EXTENSION ... UPDATE). pg_available_extensions reads the control
 * files once per run, hence the long interval.
 */
export const pgExtension = defineProbe({
  name: 'pg_extension',
  scope: 'database',
  description: 'Installed extensions: version, schema, and whether an update is available',
  intervalMs: 60 * 60_000,
  retentionDays: 30,
  enabledByDefault: true,
  changeTracked: true,
  key: ['extname'],
  columns: [
    { name: 'extname', type: 'text', sql: 'e.extname' },
    { name: 'extversion', type: 'text', sql: 'e.extversion' },
    { name: 'extrelocatable', type: 'bool', sql: 'e.extrelocatable' },
    { name: 'schema_name', type: 'text', sql: 'n.nspname' },
    // NULL when the extension's control file is gone from the server's installation.
    { name: 'default_version', type: 'text', sql: 'a.default_version' },
    {
      name: 'update_available',
      type: 'bool',
      sql: 'coalesce(a.default_version <> e.extversion, false)',
    },
  ],
  sql: (select) =>
    `SELECT ${select}
       FROM pg_extension e
       JOIN pg_namespace n ON n.oid = e.extnamespace
       LEFT JOIN pg_available_extensions a ON a.name = e.extname
      ORDER BY e.extname`,
});
