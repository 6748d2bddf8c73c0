import pg from 'pg';

/** How the history datastore is reached; a pool separate from the monitored targets'. */
export interface DatastorePoolOptions {
  readonly url: string;
  /** Default 25: writers for many targets share it. */
  readonly maxConnections: number;
  readonly statementTimeoutMs?: number;
}

/**
 * The datastore's own pool: never shared with monitored servers, so a slow datastore cannot
 * starve collection (and the reverse), and tagged so DBAs can tell its sessions apart.
 */
export function createDatastorePool(options: DatastorePoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    application_name: 'pgquerylens-datastore',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 60_000,
  });
  // A dropped idle connection must not crash the collector; the next checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}
