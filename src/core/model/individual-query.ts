/** One observed execution of a statement that ranked as slow. */
export interface IndividualQuery {
  readonly queryId: string;
  /** Statement text as configured (obfuscated by default). */
  readonly queryText: string;
  /** True when the server or pgquerylens cut the text. */
  readonly queryTruncated?: boolean;
  readonly databaseName: string;
  /** Backend that ran it. */
  readonly pid?: number;
  /** Session state when observed. */
  readonly state?: string;
  /** Elapsed time of the execution when observed, ms (`exec_time_ms`). */
  readonly execTimeMs?: number;
  /** CPU time, ms, where pg_stat_kcache or pg_stat_monitor provides it (`cpu_time_ms`). */
  readonly cpuTimeMs?: number;
  /** The statement's interval mean, ms (`avg_exec_time_ms`). */
  readonly avgExecTimeMs?: number;
  /** Hash of the plan it ran with, when captured (`plan_id`). */
  readonly planId?: string;
  /** Where it was seen. */
  readonly source: 'ash' | 'pg_stat_activity' | 'pg_stat_monitor';
  /** When it was seen (ISO-8601, UTC). */
  readonly observedAt: string;
}
