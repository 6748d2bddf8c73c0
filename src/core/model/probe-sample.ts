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
  /** Set on the rows of a user's custom query, which no schema describes. */
  readonly custom?: CustomSampleInfo;
}

/** How the rows of a custom query are to be reported. */
export interface CustomSampleInfo {
  /**
   * `metrics-query`: each row is one metric (metric_name, metric_type, metric_value plus
   * attribute columns); `columns`: each column of a row is a metric or an attribute.
   */
  readonly form: 'metrics-query' | 'columns';
  /** Event type the rows are reported under, e.g. `PostgresqlCustomSample`. */
  readonly sampleName: string;
  /** Column → gauge | rate | delta | prate | pdelta | attribute, where the user chose one. */
  readonly metricTypes: Readonly<Record<string, string>>;
}
