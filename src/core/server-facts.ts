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
  /** Database the connection is on. */
  readonly database: string;
  /** `system_identifier`, when the role may read pg_control_system(). */
  readonly systemIdentifier?: string;
}

/** Whether an extension is installed in the connected database. */
export function hasExtension(facts: ServerFacts, name: string): boolean {
  return Object.hasOwn(facts.extensions, name);
}
