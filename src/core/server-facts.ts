import type { TargetKind } from './config/resolved-config.js';

/**
 * What a collector may rely on when choosing its SQL. Detected once per connection and
 * refreshed on reconnect, so collectors never probe by failing.
 */
export interface ServerFacts {
  /** `server_version_num`, e.g. 170002. */
  readonly versionNum: number;
  /** `server_version`, e.g. "17.2". */
  readonly version: string;
  /** Major version, e.g. 17. */
  readonly major: number;
  /**
   * Schema of each installed extension, quoted for SQL (extensions may live outside the
   * search_path, e.g. in `extensions`); absent where unknown (PgBouncer, hand-made facts).
   */
  readonly extensionSchemas?: Readonly<Record<string, string>>;
  /** Extensions installed in the connected database, name → version. */
  readonly extensions: Readonly<Record<string, string>>;
  /** True on a standby. */
  readonly isInRecovery: boolean;
  /** `compute_query_id` (`on`, `off`, `auto`, `regress`); undefined before PG14. */
  readonly computeQueryId?: string;
  /** The role is superuser or a member of pg_monitor. */
  readonly hasPgMonitor: boolean;
  /** The role can see every session's statement text and statistics. */
  readonly hasReadAllStats: boolean;
  /** The role is a superuser. */
  readonly isSuperuser: boolean;
  /** The role may read `pg_hba_file_rules` (superuser, or granted explicitly). */
  readonly canReadHbaFileRules: boolean;
  /** The role may read `pg_ident_file_mappings` (PG15+; superuser, or granted explicitly). */
  readonly canReadIdentFileMappings: boolean;
  /** Database the connection is on. */
  readonly database: string;
  /** `system_identifier`, when the role may read pg_control_system(). */
  readonly systemIdentifier?: string;
  /**
   * `shared_preload_libraries` as a list; undefined when the role may not read it (it needs
   * pg_read_all_settings). Extensions with shared memory do nothing unless preloaded.
   */
  readonly sharedPreloadLibraries?: readonly string[];
  /**
   * What answered: absent means PostgreSQL. A PgBouncer admin console has no PostgreSQL facts;
   * its connector fills those fields with neutral values (major 0, no extensions, no roles).
   */
  readonly product?: TargetKind;
}

/** Whether an extension is installed in the connected database. */
export function hasExtension(facts: ServerFacts, name: string): boolean {
  return Object.hasOwn(facts.extensions, name);
}

/**
 * Whether a library is in `shared_preload_libraries`: undefined when the role cannot tell, so
 * callers only refuse on a definite no.
 */
export function isPreloaded(facts: ServerFacts, library: string): boolean | undefined {
  return facts.sharedPreloadLibraries?.includes(library);
}

/** Whether the installed version of an extension is at least `version` (dotted numbers). */
export function extensionAtLeast(facts: ServerFacts, name: string, version: string): boolean {
  const installed = facts.extensions[name];
  return installed !== undefined && compareVersions(installed, version) >= 0;
}

/** Compares dotted version strings numerically (`1.10` > `1.9`); non-numbers count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `relation` of an extension, qualified with the extension's schema when known. */
export function extensionRelation(facts: ServerFacts, extension: string, relation: string): string {
  const schema = facts.extensionSchemas?.[extension];
  return schema === undefined ? relation : `${schema}.${relation}`;
}
