import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import {
  CUSTOM_QUERIES,
  customQueriesCollector,
} from '../../src/collectors/custom/custom-queries-collector.js';
import { TargetConnectors } from '../../src/collectors/custom/target-connectors.js';
import { DATABASE_PROBES } from '../../src/collectors/probes/catalog-database.js';
import { SLOW_QUERIES, WAIT_EVENTS } from '../../src/collectors/query-performance-names.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import {
  resolveCustomQueries,
  type CustomQuerySettings,
} from '../../src/core/config/custom-query-settings.js';
import type { ParsedCustomQueries } from '../../src/core/config/config-schema.js';
import { loadConfig } from '../../src/core/config/load-config.js';
import { silentLogger, type LogFields, type Logger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { runProbes } from '../helpers/probe-run.js';
import { QueryPerformanceHarness } from '../helpers/query-performance-harness.js';
import { targetFor } from '../helpers/targets.js';

const url = inject('pgUrl');
const [dbA, dbB] = inject('testDatabases') as [string, string];
const connectors = new TargetConnectors();
const connect = connectors.track((target) => new PgTargetConnector(target, silentLogger));
const target = targetFor(url, { name: 'custom-test', databases: [] });
const connector = connect(target);

/** Warnings the collector logged, as `message query database`. */
const warnings: string[] = [];
/** Their `err` fields, in the same order. */
const warningErrors: string[] = [];
const capture: Logger = {
  ...silentLogger,
  warn: (msg: string, fields?: LogFields) => {
    warnings.push([msg, fields?.query, fields?.database].join(' '));
    warningErrors.push(String(fields?.err));
  },
  child: () => capture,
};

afterAll(async () => {
  await connector.close();
});

/** One run of the custom-query collector through the real runner. */
async function collect(settings: CustomQuerySettings): Promise<UnifiedMetrics> {
  const runner = new CollectionRunner({
    target: { name: target.name, host: target.host, port: target.port, labels: {} },
    connector,
    collectors: [customQueriesCollector(settings, connectors.lookup)],
    settings: () => ({ statementTimeoutMs: 5_000, deadlineMs: 20_000 }),
    collectorVersion: 'test',
    logger: capture,
  });
  return runner.run([CUSTOM_QUERIES], new AbortController().signal);
}

/** Custom-query settings as the loader resolves them (`timeout` in ms). */
function settings(parsed: ParsedCustomQueries): CustomQuerySettings {
  return resolveCustomQueries(parsed);
}

function statusOf(batch: UnifiedMetrics) {
  const status = batch.metadata.collectors.find((c) => c.collector === CUSTOM_QUERIES);
  if (status === undefined) throw new Error('no run status');
  return status;
}

describe('custom queries against a real server', () => {
  it('reports the metrics query as PgCustomQuerySample rows on the instance', async () => {
    const batch = await collect(
      settings({
        metricsQuery: `SELECT 'sessions' AS metric_name, 'gauge' AS metric_type,
                              count(*) AS metric_value, current_database() AS db
                         FROM pg_stat_activity`,
      }),
    );
    expect(statusOf(batch).success).toBe(true);
    expect(batch.probes).toHaveLength(1);
    const sample = batch.probes[0];
    expect(sample).toMatchObject({
      probe: CUSTOM_QUERIES,
      scope: 'server',
      custom: { form: 'metrics-query', sampleName: 'PgCustomQuerySample', metricTypes: {} },
    });
    expect(sample?.database).toBeUndefined();
    expect(sample?.rows).toEqual([
      {
        metric_name: 'sessions',
        metric_type: 'gauge',
        metric_value: expect.any(Number),
        db: 'postgres',
      },
    ]);
  });

  it('reports config queries column by column: numbers, text and NULL as they are', async () => {
    const batch = await collect(
      settings({
        queries: [
          {
            query: `SELECT 1::int2 AS small, 2::int4 AS regular, 9007199254740::int8 AS big,
                           1.25::numeric AS exact, 2.5::float8 AS approx, 'txt'::text AS label,
                           'v'::varchar AS other, NULL::int AS missing, true AS flag
                      FROM generate_series(1, 2)`,
            metricTypes: { big: 'rate', label: 'attribute' },
            sampleName: 'TypesSample',
          },
        ],
      }),
    );
    expect(statusOf(batch).success).toBe(true);
    const sample = batch.probes[0];
    expect(sample).toMatchObject({
      probe: CUSTOM_QUERIES,
      database: 'postgres',
      custom: {
        form: 'columns',
        sampleName: 'TypesSample',
        metricTypes: { big: 'rate', label: 'attribute' },
      },
    });
    expect(sample?.rows).toHaveLength(2);
    expect(sample?.rows[0]).toEqual({
      small: 1,
      regular: 2,
      big: 9007199254740,
      exact: 1.25,
      approx: 2.5,
      label: 'txt',
      other: 'v',
      missing: null,
      flag: true,
    });
  });

  it('runs each query on its database, the target database by default', async () => {
    const sql = 'SELECT current_database() AS db';
    const batch = await collect(
      settings({
        queries: [
          { query: sql, database: dbA, sampleName: 'A' },
          { query: sql, sampleName: 'Default' },
          { query: sql, database: dbB, sampleName: 'B' },
          { query: `${sql}, 2 AS second`, database: dbA, sampleName: 'A2' },
        ],
      }),
    );
    expect(statusOf(batch).success).toBe(true);
    // Configuration order, whichever database answered first.
    expect(
      batch.probes.map((s) => [s.custom?.sampleName, s.database, s.rows[0]?.db] as const),
    ).toEqual([
      ['A', dbA, dbA],
      ['Default', 'postgres', 'postgres'],
      ['B', dbB, dbB],
      ['A2', dbA, dbA],
    ]);
    // Connections opened for other databases are closed after the run.
    expect(connector.openConnections).toBeLessThanOrEqual(1);
  });

  it('cancels a query at customQueries.timeout, on any database, and keeps the others', async () => {
    warnings.length = 0;
    warningErrors.length = 0;
    const began = performance.now();
    const batch = await collect(
      settings({
        timeout: 300,
        metricsQuery:
          "SELECT 'slow' AS metric_name, 'gauge' AS metric_type, 1 AS metric_value, pg_sleep(5)",
        queries: [
          { query: 'SELECT 1 AS fast' },
          { query: 'SELECT pg_sleep(5) AS slept', database: dbA },
          { query: 'SELECT 2 AS fast_too', database: dbA },
        ],
      }),
    );
    expect(performance.now() - began).toBeLessThan(4_000);
    expect(statusOf(batch).success).toBe(true);
    expect(batch.probes.map((s) => s.rows[0])).toEqual([{ fast: 1 }, { fast_too: 2 }]);
    expect(warnings).toEqual([
      'custom query failed customQueries.metricsQuery postgres',
      `custom query failed customQueries.queries[1] ${dbA}`,
    ]);
    for (const err of warningErrors) {
      expect(err).toBe('canceling statement due to statement timeout');
    }
  });

  it('reports failing queries and keeps the rest; fails the run when all fail', async () => {
    warnings.length = 0;
    const partial = await collect(
      settings({
        metricsQuery: 'SELECT 1 AS just_a_number',
        queries: [
          { query: 'SELECT * FROM no_such_table' },
          { query: 'SELECT 1 AS one; SELECT 2 AS two' },
          { query: 'SELECT 1 AS one', database: 'no_such_database' },
          { query: 'SELECT 3 AS three' },
        ],
      }),
    );
    expect(statusOf(partial).success).toBe(true);
    expect(partial.probes.map((s) => s.rows[0])).toEqual([{ three: 3 }]);
    expect(warnings).toEqual([
      'custom query failed customQueries.metricsQuery postgres',
      'custom query failed customQueries.queries[0] postgres',
      'custom query failed customQueries.queries[1] postgres',
      'custom query failed customQueries.queries[2] no_such_database',
    ]);

    const failed = await collect(
      settings({
        queries: [
          { query: 'SELECT * FROM no_such_table' },
          { query: 'SELECT 1', database: 'no_such_database' },
        ],
      }),
    );
    const status = statusOf(failed);
    expect(status.success).toBe(false);
    expect(status.error).toContain(
      'customQueries.queries[0] (database postgres): relation "no_such_table" does not exist',
    );
    expect(status.error).toContain(
      'customQueries.queries[1] (database no_such_database): cannot connect',
    );
    expect(failed.probes).toEqual([]);
  });

  it('explains a metrics query without the three required columns', async () => {
    const failed = await collect(settings({ metricsQuery: 'SELECT 1 AS metric_value' }));
    expect(statusOf(failed).error).toContain(
      'must return metric_name, metric_type, metric_value (missing metric_name, metric_type)',
    );
  });

  it('does nothing when no query is configured', async () => {
    const batch = await collect(settings({}));
    expect(statusOf(batch).success).toBe(true);
    expect(batch.probes).toEqual([]);
  });

  it('runs the shipped custom query example on this server', async () => {
    const example = path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      '../../config/newrelic/postgresql-custom-query.yml',
    );
    const config = loadConfig({
      env: { USERNAME: 'u', PASSWORD: 'example-pw', CUSTOM_METRICS_CONFIG: example },
      flags: { mode: 'nri' },
      knownCollectors: [CUSTOM_QUERIES],
    });
    const batch = await collect(config.customQueries);
    expect(statusOf(batch)).toMatchObject({ success: true });
    expect(batch.probes.map((s) => s.custom?.sampleName)).toEqual([
      'PostgresqlTransactionSample',
      'PostgresqlUnusedIndexSample',
      'PostgresqlCustomSample',
    ]);
    expect(batch.probes[0]?.rows[0]).toMatchObject({
      datname: 'postgres',
      xact_commit: expect.any(Number),
    });
    expect(batch.probes[2]?.rows[0]?.oldest_transaction_seconds).toEqual(expect.any(Number));
  });
});

describe('an empty database list (COLLECTION_LIST {})', () => {
  it('visits no database and leaves cluster-wide views empty', async () => {
    const probes = DATABASE_PROBES.slice(0, 2);
    const runs = await runProbes(url, probes, []);
    for (const probe of probes) {
      expect(runs.get(probe.name)?.samples).toEqual([]);
      expect(runs.get(probe.name)?.statuses).toEqual([]);
    }

    const h = new QueryPerformanceHarness(url, [], undefined, 'custom-empty-list');
    try {
      await h.tick();
      await h.collect(SLOW_QUERIES, WAIT_EVENTS);
      await h.tick(2);
      const batch = await h.collect(SLOW_QUERIES, WAIT_EVENTS);
      expect(batch.metadata.error).toBeUndefined();
      expect(batch.slowQueries).toEqual([]);
      expect(batch.individualQueries).toEqual([]);
      expect(batch.waitEvents).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
