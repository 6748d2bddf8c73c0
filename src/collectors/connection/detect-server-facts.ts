import type pg from 'pg';
import type { ServerFacts } from '../../core/server-facts.js';
import { markOwnSql } from './pg-client-config.js';

interface FactsRow {
  version_num: number;
  version: string;
  in_recovery: boolean;
  compute_query_id: string | null;
  database: string;
  is_superuser: boolean;
  has_pg_monitor: boolean;
  has_read_all_stats: boolean;
  can_read_control: boolean;
  can_read_hba: boolean;
  can_read_ident: boolean;
  preload: string | null;
}

// USAGE (not MEMBER) because only inherited privileges help a NOINHERIT role. pg_stat_statements
// stores each statement of the string on its own, from just after the previous semicolon, so
// each one carries the marker that keeps our statements out of slow queries.
const FACTS_SQL = `${markOwnSql(`SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       pg_is_in_recovery() AS in_recovery,
       current_setting('compute_query_id', true) AS compute_query_id,
       current_database() AS database,
       r.rolsuper AS is_superuser,
       r.rolsuper OR pg_has_role(current_user, 'pg_monitor', 'USAGE') AS has_pg_monitor,
       r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS has_read_all_stats,
       has_function_privilege('pg_control_system()', 'EXECUTE') AS can_read_control,
       coalesce(has_table_privilege(to_regclass('pg_catalog.pg_hba_file_rules'), 'SELECT')
                AND has_function_privilege(to_regprocedure('pg_catalog.pg_hba_file_rules()'),
                                           'EXECUTE'), false) AS can_read_hba,
       coalesce(has_table_privilege(to_regclass('pg_catalog.pg_ident_file_mappings'), 'SELECT')
                AND has_function_privilege(
                      to_regprocedure('pg_catalog.pg_ident_file_mappings()'), 'EXECUTE'),
                false) AS can_read_ident,
       -- pg_settings hides it (NULL here) from roles without pg_read_all_settings.
       (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload
  FROM pg_roles r
 WHERE r.rolname = current_user`)};
${markOwnSql(`SELECT e.extname, e.extversion, quote_ident(n.nspname) AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`)}`;

/** Reads the facts collectors choose their SQL by; one round trip, two with the system id. */
export async function detectServerFacts(client: pg.Client): Promise<ServerFacts> {
  // Two statements in one simple-protocol round trip.
  const results = (await client.query(FACTS_SQL)) as unknown as pg.QueryResult[];
  const row = results[0]?.rows[0] as FactsRow | undefined;
  if (row === undefined) {
    throw new Error('could not read server facts (current role not visible in pg_roles)');
  }
  const extensions: Record<string, string> = {};
  const extensionSchemas: Record<string, string> = {};
  for (const ext of (results[1]?.rows ?? []) as {
    extname: string;
    extversion: string;
    schema: string;
  }[]) {
    extensions[ext.extname] = ext.extversion;
    extensionSchemas[ext.extname] = ext.schema;
  }
  let systemIdentifier: string | undefined;
  if (row.can_read_control) {
    const control = await client.query<{ id: string }>(
      markOwnSql('SELECT system_identifier::text AS id FROM pg_control_system()'),
    );
    systemIdentifier = control.rows[0]?.id;
  }
  return Object.freeze({
    versionNum: row.version_num,
    version: row.version,
    major: Math.floor(row.version_num / 10_000),
    extensions: Object.freeze(extensions),
    extensionSchemas: Object.freeze(extensionSchemas),
    isInRecovery: row.in_recovery,
    ...(row.compute_query_id === null ? {} : { computeQueryId: row.compute_query_id }),
    hasPgMonitor: row.has_pg_monitor,
    hasReadAllStats: row.has_read_all_stats,
    isSuperuser: row.is_superuser,
    canReadHbaFileRules: row.can_read_hba,
    canReadIdentFileMappings: row.can_read_ident,
    database: row.database,
    ...(systemIdentifier === undefined ? {} : { systemIdentifier }),
    ...(row.preload === null ? {} : { sharedPreloadLibraries: libraryNames(row.preload) }),
  });
}

/** `pg_stat_statements, "$libdir/pg_stat_kcache.so"` → names as extensions spell them. */
function libraryNames(setting: string): readonly string[] {
  return Object.freeze(
    setting
      .split(',')
      .map((entry) => entry.trim().replace(/^"(.*)"$/, '$1'))
      .map((entry) => entry.replace(/^.*\//, '').replace(/\.so$/, ''))
      .filter((name) => name !== ''),
  );
}
