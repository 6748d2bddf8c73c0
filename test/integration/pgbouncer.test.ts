import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CollectorApp } from '../../src/cli/collector-app.js';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { PgBouncerConnector } from '../../src/collectors/pgbouncer/pgbouncer-connector.js';
import { pgbouncerFacts } from '../../src/collectors/pgbouncer/pgbouncer-facts.js';
import { pgbouncerStats } from '../../src/collectors/pgbouncer/pgbouncer-stats.js';
import { PGBOUNCER_PROBES } from '../../src/collectors/probes/catalog-pgbouncer.js';
import { pgStatActivitySummary } from '../../src/collectors/probes/pg-stat-activity-summary.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import type { CollectContext } from '../../src/core/collector.js';
import { CollectorRegistry } from '../../src/core/collector-registry.js';
import { loadConfig } from '../../src/core/config/load-config.js';
import { ConfigError } from '../../src/core/errors.js';
import type { ExportAdapter } from '../../src/core/export-adapter.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import type { QuerySession, Row } from '../../src/core/target-connector.js';
import { freePort } from '../helpers/debian-postgres.js';
import { PgBouncerServer, pgbouncerSkipReason } from '../helpers/pgbouncer-server.js';
import { runProbe } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const [database = 'pgql_test_a'] = inject('testDatabases');

const probeNames = PGBOUNCER_PROBES.map((p) => p.name);

/** Runs `count` statements through the bouncer on `database`. */
async function workload(bouncer: PgBouncerServer, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: bouncer.url(database) });
  await client.connect();
  try {
    for (let i = 0; i < count; i += 1) await client.query('SELECT 1');
  } finally {
    await client.end();
  }
}

function rowsOf(batch: UnifiedMetrics, probe: string): readonly ProbeRow[] {
  return batch.probes.filter((s) => s.probe === probe).flatMap((s) => s.rows);
}

describe('configuration of a pgbouncer target', () => {
  it('defaults to the admin console on 6432 and refuses another database', () => {
    const target = targetFor('postgres://stats@bouncer.internal', { type: 'pgbouncer' });
    expect(target).toMatchObject({
      kind: 'pgbouncer',
      port: 6432,
      database: 'pgbouncer',
      name: 'bouncer.internal:6432',
    });
    expect(targetFor('postgres://u@db.internal').kind).toBe('postgresql');
    expect(() => targetFor('postgres://stats@bouncer/app', { type: 'pgbouncer' })).toThrow(
      ConfigError,
    );
  });
});

describe('PgBouncer as a target', () => {
  let bouncer: PgBouncerServer | undefined;
  let skipReason: string | undefined;

  beforeAll(async () => {
    skipReason = pgbouncerSkipReason();
    if (skipReason !== undefined) return;
    bouncer = await PgBouncerServer.start(pgUrl);
  });

  afterAll(async () => {
    await bouncer?.stop();
  });

  it('reads SHOW STATS and SHOW POOLS through the runner; counters grow with traffic', async ({
    skip,
  }) => {
    if (bouncer === undefined) return skip(skipReason);
    const target = targetFor(bouncer.consoleUrl(), { type: 'pgbouncer', name: 'bouncer' });
    const connector = new PgBouncerConnector(target, silentLogger);
    const runner = new CollectionRunner({
      target: { name: 'bouncer', host: target.host, port: target.port, labels: {} },
      connector,
      collectors: PGBOUNCER_PROBES,
      settings: () => ({ statementTimeoutMs: 5_000, deadlineMs: 10_000 }),
      collectorVersion: 'test',
      logger: silentLogger,
    });
    try {
      await workload(bouncer, 5);
      const first = await runner.run(probeNames, new AbortController().signal);
      expect(first.metadata.collectors.map((s) => s.error ?? 'ok')).toEqual(['ok', 'ok']);
      expect(first.server.version).toMatch(/^PgBouncer \d+\.\d+/);

      const stats = rowsOf(first, 'pgbouncer_stats').find((r) => r.database === database);
      expect(stats, JSON.stringify(rowsOf(first, 'pgbouncer_stats'))).toBeDefined();
      expect(stats?.total_query_count).toBeGreaterThanOrEqual(5);
      expect(typeof stats?.total_received).toBe('number');
      // Only declared columns, with their declared types.
      const declared = new Map(
        PGBOUNCER_PROBES[0]?.schema.columns.map((c) => [c.name, c.type]) ?? [],
      );
      for (const [name, value] of Object.entries(stats ?? {})) {
        expect(declared.has(name), name).toBe(true);
        if (declared.get(name) === 'int8') expect(Number.isInteger(value), name).toBe(true);
      }

      const pool = rowsOf(first, 'pgbouncer_pools').find(
        (r) => r.database === database && r.user === 'postgres',
      );
      expect(pool, JSON.stringify(rowsOf(first, 'pgbouncer_pools'))).toMatchObject({
        pool_mode: 'transaction',
        cl_waiting: 0,
      });
      expect(Number(pool?.sv_idle) + Number(pool?.sv_used)).toBeGreaterThan(0);

      await workload(bouncer, 7);
      const second = await runner.run(probeNames, new AbortController().signal);
      const after = rowsOf(second, 'pgbouncer_stats').find((r) => r.database === database);
      expect(Number(after?.total_query_count)).toBeGreaterThanOrEqual(
        Number(stats?.total_query_count) + 7,
      );
      expect(Number(after?.total_xact_count)).toBeGreaterThan(Number(stats?.total_xact_count));
      expect(Number(after?.total_sent)).toBeGreaterThan(Number(stats?.total_sent));
      // One console connection, reused.
      expect(connector.openConnections).toBe(1);
    } finally {
      await connector.close();
    }
  });

  it('refuses query parameters without losing the console connection', async ({ skip }) => {
    if (bouncer === undefined) return skip(skipReason);
    const connector = new PgBouncerConnector(
      targetFor(bouncer.consoleUrl(), { type: 'pgbouncer' }),
      silentLogger,
    );
    try {
      await connector.withSession(undefined, async (session) => {
        await expect(session.query('SHOW STATS', [1])).rejects.toThrow(/no query parameters/);
        expect(session.facts).toMatchObject({
          product: 'pgbouncer',
          major: 0,
          database: 'pgbouncer',
        });
        expect(session.facts.versionNum).toBeGreaterThan(10_000);
        expect((await session.query('SHOW VERSION')).length).toBe(1);
      });
      expect(await connector.listDatabases()).toEqual([]);
    } finally {
      await connector.close();
    }
  });

  it('explains a refused console login, and reports an unreachable bouncer as is', async ({
    skip,
  }) => {
    if (bouncer === undefined) return skip(skipReason);
    const wrong = new URL(bouncer.consoleUrl());
    wrong.password = 'not-the-password';
    const refused = new PgBouncerConnector(
      targetFor(wrong.toString(), { type: 'pgbouncer' }),
      silentLogger,
    );
    await expect(refused.facts()).rejects.toThrow(/stats_users or admin_users/);
    await refused.close();
    const closed = new URL(bouncer.consoleUrl());
    closed.port = String(await freePort());
    const unreachable = new PgBouncerConnector(
      targetFor(closed.toString(), { type: 'pgbouncer' }),
      silentLogger,
    );
    await expect(unreachable.facts()).rejects.toThrow(/ECONNREFUSED/);
    await unreachable.close();
  });

  it('runs each target only its own kind of collectors (CollectorApp)', async ({ skip }) => {
    if (bouncer === undefined) return skip(skipReason);
    const config = loadConfig({
      env: {},
      flags: {
        targets: [
          { name: 'pg', url: pgUrl },
          { name: 'bouncer', url: bouncer.consoleUrl(), type: 'pgbouncer' },
        ],
      },
      knownCollectors: [],
    });
    const registry = new CollectorRegistry().register(pgStatActivitySummary, {
      enabledByDefault: true,
    });
    for (const probe of PGBOUNCER_PROBES) registry.register(probe, { enabledByDefault: true });
    const batches: UnifiedMetrics[] = [];
    const capture: ExportAdapter = {
      name: 'capture',
      export: (batch) => {
        batches.push(batch);
        return Promise.resolve();
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const app = new CollectorApp({
      config,
      registry,
      adapters: [capture],
      connect: (target) =>
        target.kind === 'pgbouncer'
          ? new PgBouncerConnector(target, silentLogger)
          : new PgTargetConnector(target, silentLogger),
      logger: silentLogger,
      version: 'test',
    });
    const result = await app.runOnce();
    await app.stop();
    expect(result).toEqual({ batches: 2, unreachable: 0 });
    const ran = (name: string): string[] =>
      (batches.find((b) => b.target.name === name)?.metadata.collectors ?? [])
        .map((s) => `${s.collector}:${s.success ? 'ok' : (s.error ?? '?')}`)
        .sort();
    expect(ran('pg')).toEqual(['pg_stat_activity_summary:ok']);
    expect(ran('bouncer')).toEqual(['pgbouncer_pools:ok', 'pgbouncer_stats:ok']);
  });

  it('a PgBouncer probe run directly on PostgreSQL is unavailable, not failed', async () => {
    for (const probe of PGBOUNCER_PROBES) {
      const run = await runProbe(pgUrl, probe);
      expect(run.statuses[0]).toMatchObject({ success: false, unavailable: true });
      expect(run.statuses[0]?.error).toMatch(/reads pgbouncer targets/);
    }
  });
});

describe('SHOW rows across PgBouncer versions', () => {
  it('keeps known columns with their types, drops unknown ones (logged once), omits missing ones', async () => {
    const debug: unknown[] = [];
    const logger: Logger = {
      ...silentLogger,
      debug: (_msg, fields) => debug.push(fields),
      child: () => logger,
    };
    const facts = pgbouncerFacts('PgBouncer 9.1.2');
    expect(facts).toMatchObject({ product: 'pgbouncer', versionNum: 90102, major: 0 });
    const session: QuerySession = {
      facts,
      query: <T extends Row = Row>() =>
        Promise.resolve([
          { database: 'app', total_query_count: '12', avg_query_time: 3, total_future_count: '1' },
        ] as Row[] as T[]),
    };
    const ctx: CollectContext = {
      target: { name: 'b', host: 'h', port: 6432, labels: {} },
      databases: [],
      session,
      signal: new AbortController().signal,
      logger,
      startedAt: new Date(),
    };
    for (let i = 0; i < 2; i += 1) {
      const out = await pgbouncerStats.collect(ctx);
      expect(out.probes?.[0]?.rows).toEqual([
        { database: 'app', total_query_count: 12, avg_query_time: 3 },
      ]);
    }
    expect(debug).toEqual([{ command: 'SHOW STATS', columns: ['total_future_count'] }]);
  });
});
