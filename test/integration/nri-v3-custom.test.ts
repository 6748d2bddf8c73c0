import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RateState } from '../../src/adapters/nri/v3/rate-state.js';
import { customSourceType } from '../../src/adapters/nri/v3/v3-custom-sets.js';
import { buildV3Entities, type V3EntityOptions } from '../../src/adapters/nri/v3/v3-entities.js';
import type { V3Entity, V3MetricSet } from '../../src/adapters/nri/v3/v3-types.js';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import {
  CUSTOM_QUERIES,
  customQueriesCollector,
} from '../../src/collectors/custom/custom-queries-collector.js';
import { TargetConnectors } from '../../src/collectors/custom/target-connectors.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { resolveCustomQueries } from '../../src/core/config/custom-query-settings.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { runProbes } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');

/** Configured host and port: entity names carry them as typed. */
const HOST = 'db1.example';
const PORT = 5432;
const INSTANCE = `${HOST}:${PORT}`;
const TTL = 6 * 60_000;
const ALL: V3EntityOptions = { ignoreTables: [], metrics: true, inventory: true };
const T0 = Date.UTC(2030, 0, 1);
/** Rate time between the two collections. */
const ELAPSED_S = 10;

/**
 * CUSTOM_METRICS_QUERY: a gauge, two rows of one rate told apart by an attribute column (one
 * spelled in capitals), a pdelta whose counter goes back, an attribute metric with a numeric
 * value, and a row of an unknown type. `kind`/`shard` are attribute columns (shard NULL once).
 */
const METRICS_QUERY = `
  SELECT 'custom.sessions' AS metric_name, 'gauge' AS metric_type,
         count(*)::float8 AS metric_value, 'activity' AS kind, NULL::int AS shard
    FROM pg_stat_activity
  UNION ALL SELECT 'custom.ticks', 'rate', last_value, 'seq', 1 FROM ticks_a
  UNION ALL SELECT 'custom.ticks', 'RATE', last_value, 'seq', 2 FROM ticks_b
  UNION ALL SELECT 'custom.resets', 'pdelta', last_value, 'seq', 3 FROM resets
  UNION ALL SELECT 'custom.version', 'attribute',
                   current_setting('server_version_num')::float8, 'server', 4
  UNION ALL SELECT 'custom.histogram', 'histogram', 1, 'bogus', 5`;

/** CUSTOM_METRICS_CONFIG query: configured rate/delta/attribute, inferred text and boolean. */
const CONFIG_QUERY = `
  SELECT grp, n, n * 2 AS doubled, length(grp) AS grp_len, flag, NULL::int AS missing,
         current_database() AS db_label
    FROM counts ORDER BY grp`;

let urlA = '';
let urlB = '';
let dbB = '';
let versionNum = '';
let first: V3Entity[] = [];
let second: V3Entity[] = [];
let firstBatch: UnifiedMetrics | undefined;

const connectors = new TargetConnectors();
let connector: PgTargetConnector | undefined;

async function collect(): Promise<UnifiedMetrics> {
  if (connector === undefined) throw new Error('no connector');
  const settings = resolveCustomQueries({
    metricsQuery: METRICS_QUERY,
    queries: [
      {
        query: CONFIG_QUERY,
        database: dbB,
        metricTypes: { n: 'rate', doubled: 'delta', grp_len: 'attribute' },
        sampleName: 'ShopCountSample',
      },
    ],
  });
  const runner = new CollectionRunner({
    target: { name: 'nri-custom', host: HOST, port: PORT, labels: {} },
    connector,
    collectors: [customQueriesCollector(settings, connectors.lookup)],
    settings: () => ({ statementTimeoutMs: 5_000, deadlineMs: 20_000 }),
    collectorVersion: 'test',
    logger: silentLogger,
  });
  const batch = await runner.run([CUSTOM_QUERIES], new AbortController().signal);
  const status = batch.metadata.collectors.find((c) => c.collector === CUSTOM_QUERIES);
  expect(status?.success).toBe(true);
  // The database sets of the second database, so both kinds of set share its entity.
  const stats = await runProbes(pgUrl, [pgStatDatabase], [dbB]);
  return {
    ...batch,
    probes: [...(stats.get(pgStatDatabase.name)?.samples ?? []), ...batch.probes],
  };
}

function entity(entities: readonly V3Entity[], type: string, name: string): V3Entity {
  const found = entities.filter((e) => e.entity.type === type && e.entity.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function sets(e: V3Entity, eventType: string): V3MetricSet[] {
  return e.metrics.filter((m) => m.event_type === eventType);
}

/** The PgCustomQuerySample set of the row with these attribute columns (shard absent: NULL). */
function customSet(entities: readonly V3Entity[], kind: string, shard?: string): V3MetricSet {
  const found = sets(entity(entities, 'pg-instance', INSTANCE), 'PgCustomQuerySample').filter(
    (s) => s.kind === kind && s.shard === shard,
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

function shopSet(entities: readonly V3Entity[], grp: string): V3MetricSet {
  const set = sets(entity(entities, 'pg-database', dbB), 'ShopCountSample').find(
    (s) => s.grp === grp,
  );
  if (set === undefined) throw new Error(`no ShopCountSample for ${grp}`);
  return set;
}

beforeAll(async () => {
  urlA = await freshDatabase(pgUrl, 'pgql_nric');
  urlB = await freshDatabase(pgUrl, 'pgql_nric');
  dbB = new URL(urlB).pathname.slice(1);
  await queryOnce(
    urlA,
    `CREATE SEQUENCE ticks_a; CREATE SEQUENCE ticks_b; CREATE SEQUENCE resets;
     SELECT setval('ticks_a', 100), setval('ticks_b', 1000), setval('resets', 500)`,
  );
  await queryOnce(
    urlB,
    `CREATE TABLE counts (grp text, n bigint, flag boolean);
     INSERT INTO counts VALUES ('g1', 10, true), ('g2', 20, false)`,
  );
  const [row] = await queryOnce<{ v: string }>(
    urlA,
    "SELECT current_setting('server_version_num') AS v",
  );
  versionNum = row?.v ?? '';
  const connect = connectors.track((t) => new PgTargetConnector(t, silentLogger));
  connector = connect(targetFor(urlA, { name: 'nri-custom', databases: [] }));

  const rates = new RateState(TTL);
  firstBatch = await collect();
  first = buildV3Entities(firstBatch, rates, ALL, T0);
  // Counters move between the collections: +300 and +50 ticks, a reset, +60 in g1 only.
  await queryOnce(
    urlA,
    "SELECT setval('ticks_a', 400), setval('ticks_b', 1050), setval('resets', 20)",
  );
  await queryOnce(urlB, "UPDATE counts SET n = 70 WHERE grp = 'g1'");
  second = buildV3Entities(await collect(), rates, ALL, T0 + ELAPSED_S * 1000);
}, 30_000);

afterAll(async () => {
  await connector?.close();
});

describe('CUSTOM_METRICS_QUERY as PgCustomQuerySample sets on the instance', () => {
  it('gives one set per row with a known type, on the pg-instance entity', () => {
    const instance = entity(first, 'pg-instance', INSTANCE);
    expect(instance.entity.id_attributes).toEqual([]);
    expect(instance.metrics.map((m) => m.event_type)).toEqual(
      Array<string>(5).fill('PgCustomQuerySample'),
    );
    // The unknown metric_type row is skipped whole.
    for (const set of instance.metrics) {
      expect(set).not.toHaveProperty('custom.histogram');
      expect(set.kind).not.toBe('bogus');
    }
    expect(first[0]).toBe(instance);
  });

  it('namespaces each set like the instance set, other columns as strings, NULL left out', () => {
    const gauge = customSet(first, 'activity');
    expect(Object.keys(gauge)).toEqual([
      'event_type',
      'displayName',
      'entityName',
      'kind',
      'custom.sessions',
    ]);
    expect(gauge).toEqual({
      event_type: 'PgCustomQuerySample',
      displayName: INSTANCE,
      entityName: `pg-instance:${INSTANCE}`,
      kind: 'activity',
      'custom.sessions': expect.any(Number),
    });
    expect(gauge['custom.sessions']).toBeGreaterThanOrEqual(1);
    expect(customSet(first, 'seq', '1')).toMatchObject({ kind: 'seq', shard: '1' });
  });

  it('reports an attribute metric as a string, even from a number', () => {
    expect(customSet(first, 'server', '4')).toEqual({
      event_type: 'PgCustomQuerySample',
      displayName: INSTANCE,
      entityName: `pg-instance:${INSTANCE}`,
      kind: 'server',
      shard: '4',
      'custom.version': versionNum,
    });
  });

  it('computes rates per row (attribute columns in the key): 0 first, then per second', () => {
    expect(customSet(first, 'seq', '1')['custom.ticks']).toBe(0);
    expect(customSet(first, 'seq', '2')['custom.ticks']).toBe(0);
    expect(customSet(second, 'seq', '1')['custom.ticks']).toBe(300 / ELAPSED_S);
    expect(customSet(second, 'seq', '2')['custom.ticks']).toBe(50 / ELAPSED_S);
  });

  it('drops a pdelta that went negative, keeping the set', () => {
    expect(customSet(first, 'seq', '3')['custom.resets']).toBe(0);
    const reset = customSet(second, 'seq', '3');
    expect(reset).not.toHaveProperty('custom.resets');
    expect(reset).toMatchObject({ kind: 'seq', shard: '3' });
  });
});

describe('CUSTOM_METRICS_CONFIG as sample_name sets on the database entity', () => {
  it('puts them on the pg-database entity the database sets use, after those', () => {
    const database = entity(first, 'pg-database', dbB);
    expect(database.entity.id_attributes).toEqual([
      { Key: 'host', Value: HOST },
      { Key: 'port', Value: String(PORT) },
    ]);
    expect(database.metrics.map((m) => m.event_type)).toEqual([
      'PostgresqlDatabaseSample',
      'PostgresqlDatabaseSample',
      'ShopCountSample',
      'ShopCountSample',
    ]);
    expect(first.indexOf(database)).toBeGreaterThan(0);
  });

  it('makes every column a metric: configured types, text as attributes, booleans 1/0', () => {
    const g1 = shopSet(first, 'g1');
    expect(Object.keys(g1)).toEqual([
      'event_type',
      'database',
      'grp',
      'n',
      'doubled',
      'grp_len',
      'flag',
      'db_label',
    ]);
    expect(g1).toEqual({
      event_type: 'ShopCountSample',
      database: dbB,
      grp: 'g1',
      n: 0,
      doubled: 0,
      grp_len: '2',
      flag: 1,
      db_label: dbB,
    });
    expect(shopSet(first, 'g2')).toMatchObject({ flag: 0, n: 0, doubled: 0 });
  });

  it('keeps one rate history per row', () => {
    expect(shopSet(second, 'g1')).toMatchObject({ n: 60 / ELAPSED_S, doubled: 120 });
    expect(shopSet(second, 'g2')).toMatchObject({ n: 0, doubled: 0 });
  });

  it('creates no instance entity for config queries alone', () => {
    const batch = firstBatch!;
    const columnsOnly: UnifiedMetrics = {
      ...batch,
      probes: batch.probes.filter((s) => s.custom?.form === 'columns'),
    };
    const entities = buildV3Entities(columnsOnly, new RateState(TTL), ALL, T0);
    expect(entities.map((e) => [e.entity.type, e.entity.name])).toEqual([['pg-database', dbB]]);
  });
});

describe('rules shared with every v3 set', () => {
  it('adds cluster_name and service_name after the namespace of both forms', () => {
    const entities = buildV3Entities(
      firstBatch!,
      new RateState(TTL),
      { ...ALL, clusterName: 'prod', serviceName: 'shop' },
      T0,
    );
    const gauge = customSet(entities, 'activity');
    expect(Object.keys(gauge).slice(0, 6)).toEqual([
      'event_type',
      'displayName',
      'entityName',
      'kind',
      'cluster_name',
      'service_name',
    ]);
    expect(shopSet(entities, 'g1')).toMatchObject({ cluster_name: 'prod', service_name: 'shop' });
  });

  it('reports nothing custom when metrics are off', () => {
    const entities = buildV3Entities(
      firstBatch!,
      new RateState(TTL),
      { ...ALL, metrics: false, inventory: true },
      T0,
    );
    expect(entities.flatMap((e) => e.metrics)).toEqual([]);
  });

  it('reads source type names as the SDK does (case-insensitive, nothing else)', () => {
    expect(customSourceType('PDelta')).toBe('pdelta');
    expect(customSourceType('gauge')).toBe('gauge');
    expect(customSourceType('histogram')).toBeUndefined();
    expect(customSourceType(1)).toBeUndefined();
    expect(customSourceType(null)).toBeUndefined();
  });
});
