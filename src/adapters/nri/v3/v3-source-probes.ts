/**
 * Probes whose rows make protocol 3's samples. nri-postgresql sends every sample every
 * interval, and a set such as PostgresqlDatabaseSample's first needs three of them in one
 * batch, so a long-running NRI integration reads them all at the base interval.
 */
export const V3_SOURCE_PROBES: readonly string[] = [
  'pg_database',
  'pg_settings',
  'pg_stat_database',
  'pg_stat_database_conflicts',
  'pg_locks',
  'pg_stat_bgwriter',
  'pg_stat_checkpointer',
  'pg_stat_io',
  'pg_stat_all_tables',
  'pg_stat_all_indexes',
  'pg_table_bloat',
  'pgbouncer_stats',
  'pgbouncer_pools',
  'custom_queries',
];
