/** A scalar as read from a statistics view; timestamps are ISO strings, int8 arrives as number. */
export type ProbeValue = string | number | boolean | null;

/** One row of a probe, keyed by column name. */
export type ProbeRow = Readonly<Record<string, ProbeValue>>;

/** Whether a probe describes the whole server or one database. */
export type ProbeScope = 'server' | 'database';

/** The rows one probe read at one moment. */
export interface ProbeSample {
  /** Probe (collector) name, e.g. `pg_stat_database`. */
  readonly probe: string;
  /** Server- or database-scoped. */
  readonly scope: ProbeScope;
  /** The database read, for database-scoped probes. */
  readonly database?: string;
  /** When the rows were read (ISO-8601, UTC). */
  readonly collectedAt: string;
  /** The rows, with column names as PostgreSQL spells them. */
  readonly rows: readonly ProbeRow[];
}
