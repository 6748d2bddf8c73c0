import { defineProbe } from './define-probe.js';

/**
 * The parsed pg_hba.conf, including lines in error, stored when it changes. Keyed by file and
 * line: from 16 on rule_number is NULL for lines in error. Before 16 there are no included
 * files, so every line comes from hba_file; that setting is read through pg_settings, which
 * hides it (NULL) instead of failing for a role without pg_read_all_settings.
 */
export const pgHbaFileRules = defineProbe({
  name: 'pg_hba_file_rules',
  scope: 'server',
  description:
    'Client authentication rules as parsed from pg_hba.conf, with errors; kept when they change',
  intervalMs: 60 * 60_000,
  retentionDays: 365,
  enabledByDefault: true,
  changeTracked: true,
  key: ['file_name', 'line_number'],
  unavailable: (f) =>
    f.canReadHbaFileRules
      ? undefined
      : 'needs superuser or GRANT SELECT ON pg_hba_file_rules plus EXECUTE on pg_hba_file_rules()',
  columns: [
    { name: 'rule_number', type: 'int8', sql: 'line_number', until: 15 },
    { name: 'rule_number', type: 'int8', since: 16 },
    {
      name: 'file_name',
      type: 'text',
      sql: "(SELECT setting FROM pg_settings WHERE name = 'hba_file')",
      until: 15,
    },
    { name: 'file_name', type: 'text', since: 16 },
    { name: 'line_number', type: 'int8' },
    { name: 'type', type: 'text' },
    { name: 'database', type: 'jsonb', sql: 'to_json(database)::text' },
    { name: 'user_name', type: 'jsonb', sql: 'to_json(user_name)::text' },
    { name: 'address', type: 'text' },
    { name: 'netmask', type: 'text' },
    { name: 'auth_method', type: 'text' },
    { name: 'options', type: 'jsonb', sql: 'to_json(options)::text' },
    { name: 'error', type: 'text' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_hba_file_rules ORDER BY 2, 3`,
});
