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
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    application_name: 'pgquerylens-datastore',
    statement_timeout: statementTimeoutMs,
    // A datastore that vanishes without a reset (host crash, failover, NAT) must surface as an
    // error, not a write that waits forever while the buffer fills in silence.
    connectionTimeoutMillis: 10_000,
    query_timeout: statementTimeoutMs + 5_000,
    keepAlive: true,
    idleTimeoutMillis: 60_000,
  });
  // A dropped idle connection must not crash the collector; the next checkout reconnects.
  pool.on('error', () => undefined);
  // Nor a connection dropped while checked out: pg emits 'error' on the client as well as
  // failing its query, and an unheard 'error' event would end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
