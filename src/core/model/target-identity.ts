/** Who a batch describes: one monitored PostgreSQL server. */
export interface TargetIdentity {
  /** Configured name, unique within one collector process; the key for state and sharding. */
  readonly name: string;
  /** Host as configured (never resolved), so it matches what users typed in dashboards. */
  readonly host: string;
  /** TCP port of the server. */
  readonly port: number;
  /** `pg_control_system().system_identifier` once known; survives renames and DNS changes. */
  readonly systemIdentifier?: string;
  /** User labels copied onto every exported series and event. */
  readonly labels: Readonly<Record<string, string>>;
}

/** What the collector learned about the server while collecting the batch. */
export interface ServerInfo {
  /** `server_version_num`, e.g. 170002; absent when the server could not be reached. */
  readonly versionNum?: number;
  /** `server_version` as the server reports it, e.g. "17.2". */
  readonly version?: string;
  /** Whether the server was a standby (`pg_is_in_recovery()`). */
  readonly isInRecovery?: boolean;
}
