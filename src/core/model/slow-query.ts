/** Statement classes as nri-postgresql names them. */
export type StatementType = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'OTHER';

/**
 * One statement's activity over one interval, from pg_stat_statements deltas (never lifetime
 * averages). Every nri-postgresql `PostgresSlowQueries` attribute is derivable from it.
 */
export interface SlowQuery {
  /** `queryid` as a decimal string (int8 does not fit a JS number). */
  readonly queryId: string;
  /** Normalised text (`$1` placeholders), truncated to the configured length. */
  readonly queryText: string;
  /** Database the statement ran in. */
  readonly databaseName: string;
  /** Role that ran it. */
  readonly userName?: string;
  /** Schema, when known; nri-postgresql fills it with the collector's `current_schema()`. */
  readonly schemaName?: string;
  /** Class of statement from its leading keyword. */
  readonly statementType: StatementType;
  /** Whether the row is a top-level statement (PG14+ `toplevel`; true before). */
  readonly toplevel: boolean;
  /** Length of the interval the deltas cover, in seconds. */
  readonly intervalSeconds: number;
  /** Calls in the interval (`execution_count`). */
  readonly calls: number;
  /** Execution time in the interval, ms. */
  readonly totalExecTimeMs: number;
  /** Mean execution time per call in the interval (`avg_elapsed_time_ms`). */
  readonly meanExecTimeMs: number;
  /** Standard deviation per call within the interval, when derivable. */
  readonly stddevExecTimeMs?: number;
  /** Planning time in the interval, ms (needs `pg_stat_statements.track_planning`). */
  readonly totalPlanTimeMs?: number;
  /** Rows returned or affected in the interval. */
  readonly rows: number;
  /** Shared blocks read per call (`avg_disk_reads`). */
  readonly avgDiskReads: number;
  /** Shared blocks written per call (`avg_disk_writes`). */
  readonly avgDiskWrites: number;
  /** Shared buffer hits in the interval. */
  readonly sharedBlksHit?: number;
  /** Shared blocks read in the interval. */
  readonly sharedBlksRead?: number;
  /** Shared blocks dirtied in the interval. */
  readonly sharedBlksDirtied?: number;
  /** Shared blocks written in the interval. */
  readonly sharedBlksWritten?: number;
  /** Temp blocks read and written in the interval. */
  readonly tempBlksRead?: number;
  readonly tempBlksWritten?: number;
  /** Time spent reading and writing blocks, ms (needs `track_io_timing`). */
  readonly blkReadTimeMs?: number;
  readonly blkWriteTimeMs?: number;
  /** WAL generated in the interval (PG13+). */
  readonly walRecords?: number;
  readonly walBytes?: number;
  /** JIT time in the interval, ms (PG15+). */
  readonly jitTimeMs?: number;
  /** End of the interval (ISO-8601, UTC); nri's `collection_timestamp`. */
  readonly collectedAt: string;
}
