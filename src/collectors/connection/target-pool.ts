import type pg from 'pg';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ServerFacts } from '../../core/server-facts.js';
import { endClient } from './end-client.js';

/** A live monitoring connection to one database of a target. */
export interface PooledClient {
  readonly client: pg.Client;
  readonly database: string;
  readonly facts: ServerFacts;
  readonly createdAt: number;
  lastUsedAt: number;
  /** Current session `statement_timeout`, ms; SET only when a query needs another value. */
  statementTimeoutMs: number;
  /** Set when the connection can no longer be trusted (error, client-side timeout). */
  broken: boolean;
}

export interface TargetPoolOptions {
  /** Connections open at once across all databases of the target. */
  readonly max: number;
  /** Idle connections older than this are closed, ms. */
  readonly idleTimeoutMs: number;
  /** Connections are recycled after this age: long-lived backends grow memory. */
  readonly maxLifetimeMs: number;
  /** Opens and prepares a connection to `database`. */
  readonly open: (database: string) => Promise<PooledClient>;
  readonly logger: Logger;
}

/**
 * A pool across the databases of one server, with one limit for all of them: the cap is what
 * the monitored server sees, whatever the number of databases. pg.Pool is per database and
 * would multiply it.
 */
export class TargetPool {
  readonly #opts: TargetPoolOptions;
  readonly #idle: PooledClient[] = [];
  readonly #waiters: (() => void)[] = [];
  #open = 0;
  #closed = false;
  readonly #reaper: NodeJS.Timeout;

  constructor(options: TargetPoolOptions) {
    this.#opts = options;
    this.#reaper = setInterval(() => this.#reap(), Math.max(1000, options.idleTimeoutMs / 2));
    this.#reaper.unref();
  }

  /** Connections open now (idle and in use). */
  get size(): number {
    return this.#open;
  }

  async acquire(database: string, signal?: AbortSignal): Promise<PooledClient> {
    for (;;) {
      if (this.#closed) {
        throw new Error('connection pool is closed');
      }
      if (signal?.aborted === true) {
        // Whoever woke us handed over a turn we will not use: pass it on.
        this.#wakeOne();
        signal.throwIfAborted();
      }
      const idleIndex = this.#idle.findIndex((c) => c.database === database);
      if (idleIndex >= 0) {
        const [pooled] = this.#idle.splice(idleIndex, 1);
        if (pooled === undefined) continue;
        // A connection that dropped while idle is discarded here, so the caller reconnects
        // (and re-detects facts) instead of getting a dead client.
        if (pooled.broken || this.#expired(pooled)) {
          this.#destroy(pooled);
          continue;
        }
        return pooled;
      }
      if (this.#open >= this.#opts.max && this.#idle.length > 0) {
        // Make room: the least recently used idle connection (of another database) goes.
        this.#idle.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
        const victim = this.#idle.shift();
        if (victim !== undefined) this.#destroy(victim);
      }
      if (this.#open < this.#opts.max) {
        this.#open += 1;
        try {
          return await this.#opts.open(database);
        } catch (err) {
          this.#open -= 1;
          this.#wakeOne();
          throw err;
        }
      }
      await this.#waitForTurn(signal);
    }
  }

  release(pooled: PooledClient): void {
    pooled.lastUsedAt = Date.now();
    if (pooled.broken || this.#closed || this.#expired(pooled)) {
      this.#destroy(pooled);
    } else {
      this.#idle.push(pooled);
    }
    this.#wakeOne();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((p) => this.#end(p)));
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #expired(pooled: PooledClient): boolean {
    return Date.now() - pooled.createdAt > this.#opts.maxLifetimeMs;
  }

  #reap(): void {
    const now = Date.now();
    for (const pooled of [...this.#idle]) {
      if (
        pooled.broken ||
        now - pooled.lastUsedAt > this.#opts.idleTimeoutMs ||
        this.#expired(pooled)
      ) {
        this.#idle.splice(this.#idle.indexOf(pooled), 1);
        this.#destroy(pooled);
      }
    }
  }

  #destroy(pooled: PooledClient): void {
    void this.#end(pooled);
  }

  async #end(pooled: PooledClient): Promise<void> {
    this.#open -= 1;
    this.#wakeOne();
    await endClient(pooled.client, (err) => {
      this.#opts.logger.debug('closing a connection failed', { err: errorMessage(err) });
    });
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  /** Resolves on the next release or close; an aborted waiter leaves the queue at once. */
  #waitForTurn(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(wake);
        if (index >= 0) this.#waiters.splice(index, 1);
        resolve();
      };
      this.#waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
