import pg from 'pg';
import { queryPerformanceCollectors } from '../../src/collectors/builtin-collectors.js';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { QueryPerformanceState } from '../../src/collectors/query-performance-state.js';
import { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import {
  QUERY_PERFORMANCE_DEFAULTS,
  type QueryPerformanceSettings,
} from '../../src/core/config/query-performance-settings.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { targetFor } from './targets.js';

/** Settings for tests: the sampler ticks only when told to, budgets never get in the way. */
export function testSettings(
  overrides: Partial<QueryPerformanceSettings> = {},
): QueryPerformanceSettings {
  return {
    ...QUERY_PERFORMANCE_DEFAULTS,
    ash: { ...QUERY_PERFORMANCE_DEFAULTS.ash, intervalMs: 60_000, timeoutMs: 5_000 },
    blocking: { minIntervalMs: 1, maxRows: 1_000 },
    plans: { perQueryIntervalMs: 1, maxPerCycle: 20, failureTtlMs: 1 },
    ...overrides,
  };
}

/**
 * The query-performance collectors on one target, run through the real runner, with the
 * session sampler attached as the daemon attaches it; ticks are taken on demand.
 */
export class QueryPerformanceHarness {
  readonly state: QueryPerformanceState;
  readonly #connector: PgTargetConnector;
  readonly #runner: CollectionRunner;

  constructor(url: string, databases: string[], settings = testSettings(), name = 'qp-test') {
    this.state = new QueryPerformanceState(settings, undefined, false);
    const target = targetFor(url, { name, databases });
    this.#connector = new PgTargetConnector(target, silentLogger);
    const identity = { name, host: target.host, port: target.port, labels: {} };
    this.#runner = new CollectionRunner({
      target: identity,
      connector: this.#connector,
      collectors: queryPerformanceCollectors(this.state),
      settings: () => ({ statementTimeoutMs: 10_000, deadlineMs: 20_000 }),
      collectorVersion: 'test',
      logger: silentLogger,
    });
    this.state.attach(identity, this.#connector, () => true, silentLogger);
  }

  get targetName(): string {
    return this.#runner.target.name;
  }

  /** One tick of the session sampler. */
  async tick(times = 1): Promise<void> {
    const sampler = this.state.ash.sampler(this.targetName);
    if (sampler === undefined) throw new Error('no sampler attached');
    for (let i = 0; i < times; i++) await sampler.tickNow();
  }

  async collect(...collectors: string[]): Promise<UnifiedMetrics> {
    return this.#runner.run(collectors, new AbortController().signal);
  }

  async close(): Promise<void> {
    await this.state.close();
    await this.#connector.close();
  }
}

/**
 * A PostgreSQL of the run's major for one test file, so statistics resets, lock trees and
 * prepared transactions never disturb other files sharing the suite's server.
 */
export async function privateServer(database: string): Promise<{
  server: EmbeddedServer;
  url: string;
  superuser: () => Promise<pg.Client>;
}> {
  const server = await EmbeddedServer.start({
    logger: silentLogger,
    settings: { max_prepared_transactions: '5' },
  });
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = server.url(database);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('CREATE EXTENSION pg_stat_statements');
  await setup.end();
  return {
    server,
    url,
    superuser: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    },
  };
}
