/** How one collector fared in one run; one entry per collector and database. */
export interface CollectorRunStatus {
  /** Collector name, e.g. `pg_stat_database`. */
  readonly collector: string;
  /** Database the run read, for database-scoped collectors. */
  readonly database?: string;
  /** Wall time of the run in milliseconds. */
  readonly durationMs: number;
  /** True when the collector returned data or a clean "nothing to report". */
  readonly success: boolean;
  /** Why it failed or was skipped; secrets are redacted before they get here. */
  readonly error?: string;
  /** Set when the collector did not run because the server lacks what it needs. */
  readonly unavailable?: boolean;
}

/** Provenance of a batch. */
export interface CollectionMetadata {
  /** pgquerylens version that produced the batch. */
  readonly collectorVersion: string;
  /** When the run started (ISO-8601, UTC). */
  readonly startedAt: string;
  /** When the run ended (ISO-8601, UTC). */
  readonly finishedAt: string;
  /** Per-collector outcome. */
  readonly collectors: readonly CollectorRunStatus[];
  /** Set when the whole run failed before any collector ran (e.g. server unreachable). */
  readonly error?: string;
}
