import type { TargetKind } from './config/resolved-config.js';
import type { Logger } from './logger.js';
import type { PartialMetrics } from './model/unified-metrics.js';
import type { ProbeScope } from './model/probe-sample.js';
import type { ProbeSchema } from './probe-schema.js';
import type { TargetIdentity } from './model/target-identity.js';
import type { QuerySession } from './target-connector.js';

/** What a collector gets for one run. */
export interface CollectContext {
  /** The server being read. */
  readonly target: TargetIdentity;
  /** The database being read, for database-scoped collectors. */
  readonly database?: string;
  /**
   * Databases monitored on this server (after include/exclude), for server-scoped collectors
   * that read a cluster-wide view and filter it by database.
   */
  readonly databases: readonly string[];
  /** A session on that database; its facts choose the SQL. */
  readonly session: QuerySession;
  /** Aborted at the collector's deadline or on shutdown. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** When the run started; use it as `collectedAt` so one run shares one timestamp. */
  readonly startedAt: Date;
}

/**
 * One named source of data. Collectors are stateless between runs unless they say so; one that
 * keeps deltas keys its state by target.
 */
export interface Collector {
  /** Unique name, also the probe name and config key, e.g. `pg_stat_database`. */
  readonly name: string;
  /** Read once per server, or once per database of the server. */
  readonly scope: ProbeScope;
  /** Kind of target it reads; absent means PostgreSQL. Runs only on targets of that kind. */
  readonly targetKind?: TargetKind;
  /** One line for `--help` and docs. */
  readonly description: string;
  /**
   * Cadence when not configured, ms. Omitted means the base `interval` of the configuration,
   * so fast probes follow the user's choice and slow ones (settings) keep theirs.
   */
  readonly defaultIntervalMs?: number;
  /** Shape of the rows it produces, for adapters that store them; absent for non-probe parts. */
  readonly schema?: ProbeSchema;
  /** Why the collector cannot run on this server, or undefined when it can. */
  unavailableReason?(session: QuerySession): string | undefined;
  /** Reads the server and returns the parts it fills. */
  collect(ctx: CollectContext): Promise<PartialMetrics>;
}

/** A registered collector and whether it runs without being asked for. */
export interface CollectorDefinition {
  readonly collector: Collector;
  readonly enabledByDefault: boolean;
}
