import { defineProbe } from './define-probe.js';

/** A setting as an integer in its base unit (bytes for wal_segment_size, not "16MB"). */
function intSetting(name: string): string {
  return `(SELECT setting::int8 FROM pg_settings WHERE name = '${name}')`;
}

/**
 * Identity and sizing of the server, stored when it changes (upgrades, restarts, resized
 * limits, extensions added). Settings a role may not read come from pg_settings, which hides
 * them (NULL) rather than failing as current_setting() does.
 */
export const pgServerInfo = defineProbe({
  name: 'pg_server_info',
  scope: 'server',
  description:
    'Server identity: version, system identifier, cluster name, data directory, limits, extensions',
  intervalMs: 60 * 60_000,
  retentionDays: 365,
  enabledByDefault: true,
  changeTracked: true,
  key: [],
  columns: [
    { name: 'server_version', type: 'text', sql: "current_setting('server_version')" },
    {
      name: 'server_version_num',
      type: 'int8',
      sql: "current_setting('server_version_num')::int8",
    },
    {
      name: 'system_identifier',
      type: 'text',
      sql: '(SELECT system_identifier::text FROM pg_control_system())',
      // Detected with the facts: pg_control_system() is executable by this role.
      when: (f) => f.systemIdentifier !== undefined,
    },
    { name: 'cluster_name', type: 'text', sql: "nullif(current_setting('cluster_name'), '')" },
    {
      name: 'data_directory',
      type: 'text',
      sql: "(SELECT setting FROM pg_settings WHERE name = 'data_directory')",
    },
    { name: 'server_encoding', type: 'text', sql: "current_setting('server_encoding')" },
    { name: 'data_checksums', type: 'bool', sql: "current_setting('data_checksums')::bool" },
    { name: 'max_connections', type: 'int8', sql: intSetting('max_connections') },
    { name: 'max_wal_senders', type: 'int8', sql: intSetting('max_wal_senders') },
    { name: 'max_replication_slots', type: 'int8', sql: intSetting('max_replication_slots') },
    { name: 'block_size', type: 'int8', sql: intSetting('block_size') },
    { name: 'wal_segment_size', type: 'int8', sql: intSetting('wal_segment_size') },
    {
      name: 'installed_extensions',
      type: 'jsonb',
      // Of the database the target connects to; extensions are per database.
      sql: "(SELECT coalesce(json_agg(extname || ' ' || extversion ORDER BY extname), '[]')::text FROM pg_extension)",
    },
    { name: 'postmaster_start_time', type: 'timestamptz', sql: 'pg_postmaster_start_time()' },
  ],
  sql: (select) => `SELECT ${select}`,
});
