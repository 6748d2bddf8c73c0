import pg from 'pg';
import type { ResolvedTarget } from '../../core/config/resolved-config.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { redact } from '../../core/redact.js';
import { Semaphore } from '../../core/semaphore.js';
import type { ServerFacts } from '../../core/server-facts.js';
import type {
  DedicatedSession,
  QueryOptions,
  QuerySession,
  Row,
  TargetConnector,
} from '../../core/target-connector.js';
import { detectServerFacts } from './detect-server-facts.js';
import { endClient } from './end-client.js';
import { CLIENT_TIMEOUT_MARGIN_MS, markOwnSql, pgClientConfig } from './pg-client-config.js';
import { TargetPool, type PooledClient } from './target-pool.js';

export interface PgTargetConnectorOptions {
  readonly idleTimeoutMs?: number;
  readonly maxLifetimeMs?: number;
}

const DATABASES_SQL = `
SELECT datname FROM pg_database
 WHERE NOT datistemplate AND datallowconn
 ORDER BY datname`;

/** TargetConnector on node-postgres: pooled, permit-limited, facts detected per connection. */
export class PgTargetConnector implements TargetConnector {
  readonly #target: ResolvedTarget;
  readonly #logger: Logger;
  readonly #pool: TargetPool;
  readonly #permits: Semaphore;
  readonly #warnedMissing = new Set<string>();
  #facts: ServerFacts | undefined;

  constructor(target: ResolvedTarget, logger: Logger, options: PgTargetConnectorOptions = {}) {
    this.#target = target;
    this.#logger = logger.child({ target: target.name });
    this.#permits = new Semaphore(target.maxConcurrentQueries);
    this.#pool = new TargetPool({
      max: target.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      maxLifetimeMs: options.maxLifetimeMs ?? 60 * 60_000,
      open: (database) => this.#open(database),
      logger: this.#logger,
    });
  }

  /** Connections open now; for tests and self-metrics. */
  get openConnections(): number {
    return this.#pool.size;
  }

  async facts(signal?: AbortSignal): Promise<ServerFacts> {
    return this.withSession(undefined, (s) => Promise.resolve(s.facts), signal);
  }

  async listDatabases(signal?: AbortSignal): Promise<string[]> {
    const existing = await this.withSession(
      undefined,
      async (s) => (await s.query<{ datname: string }>(DATABASES_SQL)).map((r) => r.datname),
      signal,
    );
    const excluded = new Set(this.#target.excludeDatabases);
    const wanted = this.#target.databases;
    if (wanted === 'all') {
      return existing.filter((d) => !excluded.has(d));
    }
    const present = new Set(existing);
    for (const name of wanted) {
      if (!present.has(name) && !this.#warnedMissing.has(name)) {
        this.#warnedMissing.add(name);
        this.#logger.warn('configured database does not exist or refuses connections, skipped', {
          database: name,
        });
      }
    }
    return wanted.filter((d) => present.has(d) && !excluded.has(d));
  }

  async withSession<T>(
    database: string | undefined,
    fn: (session: QuerySession) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.#permits.run(async () => {
      const pooled = await this.#pool.acquire(database ?? this.#target.database, signal);
      // Gave up while the connection was being opened: nothing is running yet, nothing to cancel.
      if (signal?.aborted === true) {
        this.#pool.release(pooled);
        signal.throwIfAborted();
      }
      // A caller that gives up (its deadline passed) must not leave its statement running on
      // the server, holding a connection and a permit: the collector's next turn would run
      // beside it. The connection is not reused, whatever the cancel hits.
      const abandon = (): void => {
        pooled.broken = true;
        void this.#cancel(pooled);
      };
      signal?.addEventListener('abort', abandon, { once: true });
      try {
        return await fn(this.#session(pooled));
      } finally {
        signal?.removeEventListener('abort', abandon);
        this.#pool.release(pooled);
      }
    });
  }

  /**
   * Cancels the statement a connection is running, over a short-lived connection of its own
   * (one above maxConnections, for a moment): the same role may cancel its own backends.
   */
  async #cancel(pooled: PooledClient): Promise<void> {
    const pid = (pooled.client as unknown as { processID?: number }).processID;
    if (pid === undefined) return;
    const client = new pg.Client(pgClientConfig(this.#target, pooled.database));
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(markOwnSql('SELECT pg_cancel_backend($1)'), [pid]);
    } catch (err) {
      this.#logger.debug('cancelling an abandoned statement failed', {
        err: redact(errorMessage(err)),
      });
    } finally {
      await endClient(client);
    }
  }

  async openDedicated(database?: string): Promise<DedicatedSession> {
    const pooled = await this.#open(database ?? this.#target.database);
    const session = this.#session(pooled);
    let closed = false;
    return {
      ...session,
      get broken() {
        return pooled.broken || closed;
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await endClient(pooled.client);
      },
    };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #session(pooled: PooledClient): QuerySession {
    const defaultTimeout = this.#target.statementTimeoutMs;
    return {
      facts: pooled.facts,
      query: async <R extends Row = Row>(
        sql: string,
        params?: readonly unknown[],
        options?: QueryOptions,
      ): Promise<R[]> => {
        const timeoutMs = options?.timeoutMs ?? defaultTimeout;
        try {
          if (pooled.statementTimeoutMs !== timeoutMs) {
            await pooled.client.query(
              markOwnSql(`SET statement_timeout = ${Math.round(timeoutMs)}`),
            );
            pooled.statementTimeoutMs = timeoutMs;
          }
          const result = await pooled.client.query<R>({
            text: markOwnSql(sql),
            ...(params === undefined ? {} : { values: [...params] }),
            query_timeout: timeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
          } as pg.QueryConfig);
          return result.rows;
        } catch (err) {
          // A server-side error (it has a SQLSTATE) leaves the session usable; anything else
          // (socket error, client-side timeout) does not.
          if (typeof (err as { code?: unknown }).code !== 'string') {
            pooled.broken = true;
          }
          throw err;
        }
      },
    };
  }

  async #open(database: string): Promise<PooledClient> {
    const client = new pg.Client(pgClientConfig(this.#target, database));
    // Filled in once connected; the error handler below may fire before or after that.
    const holder: { pooled?: PooledClient; lostEarly: boolean } = { lostEarly: false };
    // An idle connection that drops emits 'error'; unhandled, it would kill the process.
    client.on('error', (err) => {
      if (holder.pooled === undefined) holder.lostEarly = true;
      else holder.pooled.broken = true;
      this.#logger.warn('monitoring connection lost', { database, err: redact(errorMessage(err)) });
    });
    let facts: ServerFacts;
    try {
      await client.connect();
      facts = await detectServerFacts(client);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    const pooled: PooledClient = {
      client,
      database,
      facts,
      createdAt: Date.now(),
      lastUsedAt: Date.now(),
      statementTimeoutMs: this.#target.statementTimeoutMs,
      broken: holder.lostEarly,
    };
    holder.pooled = pooled;
    if (database === this.#target.database) {
      const before = this.#facts;
      this.#facts = pooled.facts;
      if (before === undefined || before.versionNum !== pooled.facts.versionNum) {
        this.#logger.info('connected', {
          version: pooled.facts.version,
          inRecovery: pooled.facts.isInRecovery,
          pgMonitor: pooled.facts.hasPgMonitor,
        });
      }
    }
    return pooled;
  }
}
