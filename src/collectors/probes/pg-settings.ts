import { defineProbe } from './define-probe.js';

/** Every server setting with where it came from; stored only when something changed. */
export const pgSettings = defineProbe({
  name: 'pg_settings',
  scope: 'server',
  description: 'Server configuration: value, unit, source, boot and reset values, pending restart',
  intervalMs: 10 * 60_000,
  retentionDays: 365,
  enabledByDefault: true,
  changeTracked: true,
  key: ['name'],
  columns: [
    { name: 'name', type: 'text' },
    // primary_conninfo may carry the replication password (pg_basebackup -R writes it there),
    // and pg_read_all_settings (in pg_monitor) can read it: masked before it leaves the server.
    { name: 'setting', type: 'text', sql: maskConninfo('setting') },
    { name: 'unit', type: 'text' },
    { name: 'category', type: 'text' },
    { name: 'short_desc', type: 'text' },
    { name: 'context', type: 'text' },
    { name: 'vartype', type: 'text' },
    { name: 'source', type: 'text' },
    { name: 'min_val', type: 'text' },
    { name: 'max_val', type: 'text' },
    { name: 'enumvals', type: 'jsonb', sql: 'to_json(enumvals)::text' },
    { name: 'boot_val', type: 'text', sql: maskConninfo('boot_val') },
    { name: 'reset_val', type: 'text', sql: maskConninfo('reset_val') },
    // Paths of configuration files; visible to superusers and pg_read_all_settings.
    { name: 'sourcefile', type: 'text' },
    { name: 'sourceline', type: 'int8' },
    { name: 'pending_restart', type: 'bool' },
  ],
  sql: (select) => `SELECT ${select} FROM pg_settings ORDER BY name`,
});

/** The column, with `password=...` in connection strings replaced by asterisks. */
export function maskConninfo(column: string): string {
  return `CASE WHEN name LIKE '%conninfo%' THEN regexp_replace(${column}, '(password\\s*=\\s*)(''(\\\\.|[^''])*''|\\S+)', '\\1********', 'gi') ELSE ${column} END`;
}
