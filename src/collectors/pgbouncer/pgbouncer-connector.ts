import pg from 'pg';
import type { ResolvedTarget } from '../../core/config/resolved-config.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { redact } from '../../core/redact.js';
import type { ServerFacts } from '../../core/server-facts.js';
import type {
  QueryOptions,
  QuerySession,
  Row,
  TargetConnector,
} from '../../core/target-connector.js';
import { CLIENT_TIMEOUT_MARGIN_MS } from '../connection/pg-client-config.js';
import { TargetPool, type PooledClient } from '../connection/target-pool.js';
import { pgbouncerClientConfig } from './pgbouncer-client-config.js';
import { pgbouncerFacts } from './pgbouncer-facts.js';

/** The only database a PgBouncer admin console has. */
export const CONSOLE_DATABASE = 'pgbouncer';

export interface PgBouncerConnectorOptions {
  readonly idleTimeoutMs?: number;
  readonly maxLifetimeMs?: number;
}

/**
 * TargetConnector for a PgBouncer admin console: one connection, used by one collector at a
 * time (the console is single-threaded and its SHOW output is cheap), reopened when it drops.
 * The console speaks only the simple query protocol and no SET, so queries take no parameters
 * and timeouts are client-side.
 */
export class PgBouncerConnector implements TargetConnector {
  readonly #target: ResolvedTarget;
  readonly #logger: Logger;
  readonly #pool: TargetPool;
  #version: string | undefined;

  constructor(target: ResolvedTarget, logger: Logger, options: PgBouncerConnectorOptions = {}) {
    this.#target = target;
    this.#logger = logger.child({ target: target.name });
    this.#pool = new TargetPool({
      max: 1,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      maxLifetimeMs: options.maxLifetimeMs ?? 60 * 60_000,
      open: () => this.#open(),
      logger: this.#logger,
    });
  }

  /** Connections open now (0 or 1); for tests. */
  get openConnections(): number {
    return this.#pool.size;
  }

  async facts(signal?: AbortSignal): Promise<ServerFacts> {
    return this.withSession(undefined, (s) => Promise.resolve(s.facts), signal);
  }

  /** A pooler has no databases of its own to visit: its probes are all server-scoped. */
  listDatabases(): Promise<string[]> {
    return Promise.resolve([]);
  }

  async withSession<T>(
    database: string | undefined,
    fn: (session: QuerySession) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (database !== undefined && database !== CONSOLE_DATABASE) {
      throw new Error(`a PgBouncer target has only the ${CONSOLE_DATABASE} database`);
    }
    const pooled = await this.#pool.acquire(CONSOLE_DATABASE, signal);
    try {
      return await fn(this.#session(pooled));
    } finally {
      this.#pool.release(pooled);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #session(pooled: PooledClient): QuerySession {
    return {
      facts: pooled.facts,
      query: async <R extends Row = Row>(
        sql: string,
        params?: readonly unknown[],
        options?: QueryOptions,
      ): Promise<R[]> => {
        // With parameters the driver switches to the extended protocol, which the console
        // answers by closing the connection: refuse before sending.
        if (params !== undefined && params.length > 0) {
          throw new Error('the PgBouncer console takes no query parameters');
        }
        const timeoutMs = options?.timeoutMs ?? this.#target.statementTimeoutMs;
        try {
          const result = await pooled.client.query<R>({
            text: sql,
            query_timeout: timeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
          } as pg.QueryConfig);
          return result.rows;
        } catch (err) {
          // The console reports every error as 08P01, fatal or not; a fatal one also ends the
          // connection, which the error handler notes. Anything without a code (a client-side
          // timeout, a socket error) leaves the connection unusable.
          if (typeof (err as { code?: unknown }).code !== 'string') pooled.broken = true;
          throw err;
        }
      },
    };
  }

  async #open(): Promise<PooledClient> {
    const client = new pg.Client(pgbouncerClientConfig(this.#target, CONSOLE_DATABASE));
    const holder: { pooled?: PooledClient; lostEarly: boolean } = { lostEarly: false };
    const lost = (err?: unknown): void => {
      if (holder.pooled === undefined) holder.lostEarly = true;
      else holder.pooled.broken = true;
      if (err !== undefined) {
        this.#logger.warn('PgBouncer console connection lost', { err: redact(errorMessage(err)) });
      }
    };
    // Unhandled, an 'error' on an idle client would kill the process.
    client.on('error', lost);
    client.on('end', () => lost());
    let facts: ServerFacts;
    try {
      await client.connect();
      const rows = (await client.query<{ version?: unknown }>('SHOW VERSION')).rows;
      facts = pgbouncerFacts(rows[0]?.version);
    } catch (err) {
      await client.end().catch(() => undefined);
      // Refused by the server (a SQLSTATE, not a socket error): most often the console's rules.
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) throw err;
      throw new Error(
        `${errorMessage(err)} (a pgbouncer target logs in to the admin console, database ` +
          `${CONSOLE_DATABASE}, as a user in stats_users or admin_users)`,
        { cause: err },
      );
    }
    const pooled: PooledClient = {
      client,
      database: CONSOLE_DATABASE,
      facts,
      createdAt: Date.now(),
      lastUsedAt: Date.now(),
      statementTimeoutMs: this.#target.statementTimeoutMs,
      broken: holder.lostEarly,
    };
    holder.pooled = pooled;
    if (this.#version !== facts.version) {
      this.#version = facts.version;
      // Not `version`: the logger's bindings already carry pgquerylens' own.
      this.#logger.info('connected to PgBouncer', { pgbouncerVersion: facts.version });
    }
    return pooled;
  }
}
