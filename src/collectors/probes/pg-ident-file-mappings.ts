import { defineProbe } from './define-probe.js';

/**
 * The parsed pg_ident.conf, including lines in error, stored when it changes; keyed like
 * pg_hba_file_rules, for the same reasons.
 */
export const pgIdentFileMappings = defineProbe({
  name: 'pg_ident_file_mappings',
  scope: 'server',
  description: 'User name maps as parsed from pg_ident.conf, with errors; kept when they change',
  intervalMs: 60 * 60_000,
  retentionDays: 365,
  enabledByDefault: true,
  changeTracked: true,
  requires: { minMajor: 15 },
  key: ['file_name', 'line_number'],
  unavailable: (f) =>
    f.canReadIdentFileMappings
      ? undefined
      : 'needs superuser or GRANT SELECT ON pg_ident_file_mappings plus EXECUTE on pg_ident_file_mappings()',
  columns: [
    { name: 'map_number', type: 'int8', sql: 'line_number', until: 15 },
    { name: 'map_number', type: 'int8', since: 16 },
    {
      name: 'file_name',
      type: 'text',
      sql: "(SELECT setting FROM pg_settings WHERE name = 'ident_file')",
      until: 15,
    },
    { name: 'file_name', type: 'text', since: 16 },
    { name: 'line_number', type: 'int8' },
    { name: 'map_name', type: 'text' },
    { name: 'sys_name', type: 'text' },
    { name: 'pg_username', type: 'text' },
    { name: 'error', type: 'text' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_ident_file_mappings ORDER BY 2, 3`,
});
