import type { ServerFacts } from './server-facts.js';

/** A result row as the driver returns it. */
export type Row = Record<string, unknown>;

/** Per-query options. */
export interface QueryOptions {
  /** Server-side `statement_timeout` for this query, ms; the session default otherwise. */
  readonly timeoutMs?: number;
}

/** A connection checked out for one collector run. Queries run one after another. */
export interface QuerySession {
  /** Facts of the server and of this session's database. */
  readonly facts: ServerFacts;
  /** Runs one statement with positional parameters and returns its rows. */
  query<T extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<T[]>;
}

/** A connection of its own, outside the pool and its permits; its owner closes it. */
export interface DedicatedSession extends QuerySession {
  /** True once the connection failed or timed out; open a new one. */
  readonly broken: boolean;
  /** Closes the connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Access to one monitored server. Implemented outside the core (the pg driver lives in
 * src/collectors/connection), so the core stays driver-free.
 */
export interface TargetConnector {
  /** Connects if needed and returns the server's facts for its default database. */
  facts(signal?: AbortSignal): Promise<ServerFacts>;
  /** Databases that database-scoped collectors should visit (after include/exclude). */
  listDatabases(signal?: AbortSignal): Promise<string[]>;
  /**
   * Runs `fn` with a session on `database` (the target's default when undefined), holding one
   * of the target's concurrent-query permits for its duration.
   */
  withSession<T>(
    database: string | undefined,
    fn: (session: QuerySession) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  /**
   * Opens a connection outside the pool and its permits, for a sampler that must never queue
   * behind collectors. Absent where there are no sessions to sample (PgBouncer).
   */
  openDedicated?(database?: string): Promise<DedicatedSession>;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
}
