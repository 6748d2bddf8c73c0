import { afterAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { pgSettings as pgSettingsCollector } from '../../src/collectors/probes/pg-settings.js';
import { pgStatActivitySummary as pgStatActivitySummaryCollector } from '../../src/collectors/probes/pg-stat-activity-summary.js';
import { pgStatDatabase as pgStatDatabaseCollector } from '../../src/collectors/probes/pg-stat-database.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import type { Collector } from '../../src/core/collector.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const testDatabases = inject('testDatabases');
const major = inject('pgMajor');
const connectors: PgTargetConnector[] = [];

const BUILTIN = [pgStatDatabaseCollector, pgStatActivitySummaryCollector, pgSettingsCollector];

/** A server-scoped collector that runs one statement and returns nothing. */
function queryCollector(name: string, description: string, sql: string): Collector {
  return {
    name,
    scope: 'server',
    description,
    async collect(ctx) {
      await ctx.session.query(sql);
      return {};
    },
  };
}

function runner(
  url: string,
  collectors: Collector[] = BUILTIN,
  extra: Record<string, unknown> = {},
  deadlineMs = 15_000,
): CollectionRunner {
  const target = targetFor(url, { name: 'it', ...extra });
  const connector = new PgTargetConnector(target, silentLogger);
  connectors.push(connector);
  return new CollectionRunner({
    target: { name: target.name, host: target.host, port: target.port, labels: { env: 'test' } },
    connector,
    collectors,
    settings: () => ({ statementTimeoutMs: 5_000, deadlineMs }),
    collectorVersion: 'test',
    logger: silentLogger,
  });
}

function run(r: CollectionRunner, names = r.collectorNames): Promise<UnifiedMetrics> {
  return r.run(names, new AbortController().signal);
}

afterAll(async () => {
  await Promise.all(connectors.map((c) => c.close()));
});

describe('the first collectors against a real server', () => {
  it('produce one batch with identity, server info and per-collector metadata', async () => {
    const batch = await run(runner(pgUrl));
    expect(batch.schemaVersion).toBe(1);
    expect(batch.target).toMatchObject({ name: 'it', host: '127.0.0.1', labels: { env: 'test' } });
    expect(batch.target.systemIdentifier).toMatch(/^\d+$/);
    expect(batch.server.versionNum).toBeGreaterThanOrEqual(major * 10_000);
    expect(batch.server.isInRecovery).toBe(false);
    expect(batch.metadata.error).toBeUndefined();
    expect(Date.parse(batch.metadata.finishedAt)).toBeGreaterThanOrEqual(
      Date.parse(batch.metadata.startedAt),
    );
    const failed = batch.metadata.collectors.filter((c) => !c.success);
    expect(failed).toEqual([]);
    const dbRuns = batch.metadata.collectors.filter((c) => c.collector === 'pg_stat_database');
    expect(dbRuns.map((c) => c.database).sort()).toEqual(
      expect.arrayContaining(['postgres', ...testDatabases]),
    );
    for (const status of batch.metadata.collectors) {
      expect(status.durationMs).toBeGreaterThan(0);
    }
    // The batch survives a JSON round trip unchanged: every value is plain data.
    expect(JSON.parse(JSON.stringify(batch))).toEqual(batch);
  });

  it('pg_stat_database reads each database in that database, with version-specific columns', async () => {
    const batch = await run(runner(pgUrl), ['pg_stat_database']);
    const samples = batch.probes.filter((p) => p.probe === 'pg_stat_database');
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const sample of samples) {
      expect(sample.scope).toBe('database');
      expect(sample.rows).toHaveLength(1);
      const row = sample.rows[0]!;
      expect(row.datname).toBe(sample.database);
      expect(typeof row.xact_commit).toBe('number');
      expect(row.size_bytes).toBeGreaterThan(1_000_000);
      expect('checksum_failures' in row).toBe(true);
      expect('sessions' in row).toBe(major >= 14);
      expect('parallel_workers_launched' in row).toBe(major >= 18);
    }
  });

  it('pg_stat_activity_summary groups sessions and sees this test session as idle or active', async () => {
    const batch = await run(runner(pgUrl), ['pg_stat_activity_summary']);
    const sample = batch.probes.find((p) => p.probe === 'pg_stat_activity_summary');
    expect(sample?.scope).toBe('server');
    const rows = sample?.rows ?? [];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        [
          'backend_type',
          'datname',
          'max_active_query_seconds',
          'max_idle_in_transaction_seconds',
          'max_xact_age_seconds',
          'sessions',
          'state',
          'wait_event_type',
        ].sort(),
      );
      expect(row.sessions).toBeGreaterThan(0);
    }
    expect(rows.some((r) => r.state === 'background')).toBe(true);
  });

  it('pg_settings reads every setting with its source', async () => {
    const batch = await run(runner(pgUrl), ['pg_settings']);
    const rows = batch.probes.find((p) => p.probe === 'pg_settings')?.rows ?? [];
    expect(rows.length).toBeGreaterThan(200);
    const spl = rows.find((r) => r.name === 'shared_preload_libraries');
    expect(spl?.setting).toContain('pg_stat_statements');
    expect(rows.find((r) => r.name === 'max_connections')).toMatchObject({
      vartype: 'integer',
      pending_restart: false,
    });
  });

  it('work as a role with only pg_monitor', async (ctx) => {
    if (monitorUrl === '') ctx.skip();
    const batch = await run(runner(monitorUrl));
    expect(batch.metadata.collectors.filter((c) => !c.success)).toEqual([]);
    const activity = batch.probes.find((p) => p.probe === 'pg_stat_activity_summary')?.rows ?? [];
    // pg_monitor includes pg_read_all_stats: other roles' sessions show their real state.
    expect(activity.some((r) => r.state === 'unknown')).toBe(false);
  });

  it('a failing collector does not fail the others, and an unavailable one is marked', async () => {
    const broken = queryCollector(
      'broken',
      'selects from a missing view',
      'SELECT * FROM pg_stat_no_such_view',
    );
    const needsExtension: Collector = {
      name: 'needs_extension',
      scope: 'server',
      description: 'needs an extension that is not installed',
      unavailableReason: (s) =>
        'pg_no_such_ext' in s.facts.extensions
          ? undefined
          : 'extension pg_no_such_ext is not installed',
      collect: () => Promise.resolve({}),
    };
    const r = runner(pgUrl, [broken, needsExtension, pgSettingsCollector]);
    const batch = await run(r);
    const byName = Object.fromEntries(batch.metadata.collectors.map((c) => [c.collector, c]));
    expect(byName.broken).toMatchObject({ success: false });
    expect(byName.broken?.error).toMatch(/pg_stat_no_such_view/);
    expect(byName.needs_extension).toMatchObject({
      success: false,
      unavailable: true,
      error: 'extension pg_no_such_ext is not installed',
    });
    expect(byName.pg_settings?.success).toBe(true);
    expect(batch.probes.map((p) => p.probe)).toEqual(['pg_settings']);
  });

  it('an unreachable server yields a batch that says so, for every collector', async () => {
    const url = new URL(pgUrl);
    url.port = '1';
    const batch = await run(runner(url.toString(), BUILTIN, { connectTimeout: '1s' }));
    expect(batch.metadata.error).toMatch(/ECONNREFUSED/);
    expect(batch.metadata.collectors).toHaveLength(3);
    expect(batch.metadata.collectors.every((c) => !c.success)).toBe(true);
    expect(batch.probes).toEqual([]);
    expect(batch.server).toEqual({});
  });

  it('a collector that outlives its deadline is cut off and reported', async () => {
    const slow = queryCollector('slow', 'sleeps longer than its deadline', 'SELECT pg_sleep(2)');
    const r = runner(pgUrl, [slow], {}, 300);
    const started = Date.now();
    const batch = await run(r);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(batch.metadata.collectors[0]).toMatchObject({
      collector: 'slow',
      success: false,
      error: 'collector slow timed out after 300 ms',
    });
  });
});
