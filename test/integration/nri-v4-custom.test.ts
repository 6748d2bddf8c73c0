import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CUSTOM_SAMPLE_ATTRIBUTE,
  customMetricType,
} from '../../src/adapters/nri/v4/v4-custom-metrics.js';
import { buildV4Documents } from '../../src/adapters/nri/v4/v4-documents.js';
import {
  V4_INTEGRATION_NAME,
  type V4Dataset,
  type V4Document,
  type V4Metric,
  type V4Options,
} from '../../src/adapters/nri/v4/v4-types.js';
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
import { v4DocumentProblems } from '../helpers/nri-v4-structure.js';
import { runProbes } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');

/** Configured host and port: entity names carry them as typed. */
const HOST = 'db1.example';
const PORT = 5432;
const INSTANCE = `${HOST}:${PORT}`;
const NOW = 1_767_225_600_000;
const OPTIONS: V4Options = {
  integrationVersion: '1.2.3',
  intervalMs: 15_000,
  metrics: true,
  inventory: false,
  events: false,
};

/**
 * CUSTOM_METRICS_QUERY: every source type (one rate spelled in capitals), an attribute metric,
 * an unknown type, a NaN, a NULL value and a NULL name. `kind`/`shard` are attribute columns
 * (shard NULL once, an integer otherwise).
 */
const METRICS_QUERY = `
  SELECT 'custom.sessions' AS metric_name, 'gauge' AS metric_type,
         count(*)::float8 AS metric_value, 'activity' AS kind, NULL::int AS shard
    FROM pg_stat_activity
  UNION ALL SELECT 'custom.ticks', 'rate', last_value, 'seq', 1 FROM ticks_a
  UNION ALL SELECT 'custom.ticks', 'RATE', last_value, 'seq', 2 FROM ticks_b
  UNION ALL SELECT 'custom.resets', 'pdelta', 500, 'seq', 3
  UNION ALL SELECT 'custom.bytes', 'delta', 4096, 'io', 4
  UNION ALL SELECT 'custom.pticks', 'prate', 7.5, 'io', 5
  UNION ALL SELECT 'custom.version', 'attribute',
                   current_setting('server_version_num')::float8, 'server', 6
  UNION ALL SELECT 'custom.histogram', 'histogram', 1, 'bogus', 7
  UNION ALL SELECT 'custom.nan', 'gauge', 'NaN'::float8, 'bad', 8
  UNION ALL SELECT 'custom.null', 'gauge', NULL, 'bad', 9
  UNION ALL SELECT NULL, 'gauge', 1, 'bad', 10`;

/**
 * CUSTOM_METRICS_CONFIG on the second database: configured rate/delta/attribute, a numeric
 * text column configured as gauge, inferred text, boolean and float (Infinity once), a NULL.
 */
const SHOP_QUERY = `
  SELECT grp, n, n * 2 AS doubled, length(grp) AS grp_len, flag, NULL::int AS missing,
         ratio, n::text AS n_text, current_database() AS db_label
    FROM counts ORDER BY grp`;

/** CUSTOM_METRICS_CONFIG on the connection's database, default sample name, a spoofing column. */
const ANSWER_QUERY = `SELECT 42 AS answer, 'x' AS label, 'spoof' AS "db.namespace"`;

let dbA = '';
let dbB = '';
let batch: UnifiedMetrics;
let documents: V4Document[];

const connectors = new TargetConnectors();
let connector: PgTargetConnector | undefined;

async function collect(): Promise<UnifiedMetrics> {
  if (connector === undefined) throw new Error('no connector');
  const settings = resolveCustomQueries({
    metricsQuery: METRICS_QUERY,
    queries: [
      {
        query: SHOP_QUERY,
        database: dbB,
        metricTypes: { n: 'rate', doubled: 'delta', grp_len: 'attribute', n_text: 'gauge' },
        sampleName: 'ShopCountSample',
      },
      { query: ANSWER_QUERY },
    ],
  });
  const runner = new CollectionRunner({
    target: { name: 'nri-v4-custom', host: HOST, port: PORT, labels: {} },
    connector,
    collectors: [customQueriesCollector(settings, connectors.lookup)],
    settings: () => ({ statementTimeoutMs: 5_000, deadlineMs: 20_000 }),
    collectorVersion: 'test',
    logger: silentLogger,
  });
  const collected = await runner.run([CUSTOM_QUERIES], new AbortController().signal);
  const status = collected.metadata.collectors.find((c) => c.collector === CUSTOM_QUERIES);
  expect(status?.success).toBe(true);
  // Catalogue points of the second database, so custom and catalogue metrics share its entity.
  const stats = await runProbes(pgUrl, [pgStatDatabase], [dbB]);
  return {
    ...collected,
    probes: [...(stats.get(pgStatDatabase.name)?.samples ?? []), ...collected.probes],
  };
}

function datasets(docs: readonly V4Document[]): V4Dataset[] {
  return docs.flatMap((d) => d.data);
}

function dataset(type: string, name: string): V4Dataset {
  const found = datasets(documents).filter((d) => d.entity.type === type && d.entity.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function metrics(type: string, name: string, prefix: string): V4Metric[] {
  return dataset(type, name).metrics.filter((m) => m.name.startsWith(prefix));
}

/** The instance's custom metric of this name whose attributes match `attributes`. */
function instanceMetric(name: string, attributes: Record<string, string>): V4Metric {
  const found = metrics('pg-instance', INSTANCE, 'custom.').filter(
    (m) => m.name === name && Object.entries(attributes).every(([k, v]) => m.attributes[k] === v),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

function shopMetrics(grp: string): V4Metric[] {
  return metrics('pg-database', `${INSTANCE}/${dbB}`, 'ShopCountSample.').filter(
    (m) => m.attributes.grp === grp,
  );
}

beforeAll(async () => {
  const urlA = await freshDatabase(pgUrl, 'pgql_nri4c');
  const urlB = await freshDatabase(pgUrl, 'pgql_nri4c');
  dbA = new URL(urlA).pathname.slice(1);
  dbB = new URL(urlB).pathname.slice(1);
  await queryOnce(
    urlA,
    `CREATE SEQUENCE ticks_a; CREATE SEQUENCE ticks_b;
     SELECT setval('ticks_a', 100), setval('ticks_b', 1000)`,
  );
  await queryOnce(
    urlB,
    `CREATE TABLE counts (grp text, n bigint, flag boolean, ratio float8);
     INSERT INTO counts VALUES ('g1', 10, true, 0.5), ('g2', 20, false, 'Infinity')`,
  );
  const connect = connectors.track((t) => new PgTargetConnector(t, silentLogger));
  connector = connect(targetFor(urlA, { name: 'nri-v4-custom', databases: [] }));
  batch = await collect();
  documents = buildV4Documents(batch, OPTIONS, NOW);
}, 30_000);

afterAll(async () => {
  await connector?.close();
});

describe('metrics query rows as metrics on the pg-instance entity', () => {
  it('gives one metric per row with a known type and a finite value', () => {
    const names = metrics('pg-instance', INSTANCE, 'custom.').map((m) => m.name);
    expect(names).toEqual([
      'custom.sessions',
      'custom.ticks',
      'custom.ticks',
      'custom.resets',
      'custom.bytes',
      'custom.pticks',
    ]);
    // attribute, unknown type, NaN, NULL value and NULL name rows are skipped whole.
    const all = datasets(documents).flatMap((d) => d.metrics);
    expect(all.filter((m) => m.attributes.kind === 'bogus' || m.attributes.kind === 'bad')).toEqual(
      [],
    );
    expect(all.some((m) => m.name === 'custom.version')).toBe(false);
  });

  it('maps gauge, rate/prate and delta/pdelta to gauge, cumulative-rate and cumulative-count', () => {
    const sessions = instanceMetric('custom.sessions', { kind: 'activity' });
    expect(sessions.type).toBe('gauge');
    expect(sessions.value).toBeGreaterThanOrEqual(1);
    expect(instanceMetric('custom.ticks', { shard: '1' })).toMatchObject({
      type: 'cumulative-rate',
      value: 100,
    });
    expect(instanceMetric('custom.ticks', { shard: '2' })).toMatchObject({
      type: 'cumulative-rate',
      value: 1000,
    });
    expect(instanceMetric('custom.pticks', {})).toMatchObject({
      type: 'cumulative-rate',
      value: 7.5,
    });
    expect(instanceMetric('custom.resets', {})).toMatchObject({
      type: 'cumulative-count',
      value: 500,
    });
    expect(instanceMetric('custom.bytes', {})).toMatchObject({
      type: 'cumulative-count',
      value: 4096,
    });
  });

  it('makes every other column a string attribute, NULL left out, plus custom.sample', () => {
    expect(instanceMetric('custom.sessions', { kind: 'activity' }).attributes).toEqual({
      kind: 'activity',
      [CUSTOM_SAMPLE_ATTRIBUTE]: 'PgCustomQuerySample',
    });
    expect(instanceMetric('custom.ticks', { shard: '1' }).attributes).toEqual({
      kind: 'seq',
      shard: '1',
      [CUSTOM_SAMPLE_ATTRIBUTE]: 'PgCustomQuerySample',
    });
    // Cumulative metrics need no interval: the agent computes differences itself.
    expect(instanceMetric('custom.bytes', {})).not.toHaveProperty('interval.ms');
  });
});

describe('config query rows as metrics on the pg-database entity', () => {
  it('routes each query to its database entity, next to the catalogue metrics', () => {
    const shop = dataset('pg-database', `${INSTANCE}/${dbB}`);
    expect(shop.entity).toMatchObject({ displayName: dbB, metadata: { database: dbB } });
    expect(shop.metrics.some((m) => m.name.startsWith('postgresql.'))).toBe(true);
    const answer = dataset('pg-database', `${INSTANCE}/${dbA}`);
    expect(answer.metrics).toEqual([
      {
        name: 'PostgresqlCustomSample.answer',
        type: 'gauge',
        value: 42,
        // The routing attribute wins over a column of the same name.
        attributes: {
          label: 'x',
          'db.namespace': dbA,
          [CUSTOM_SAMPLE_ATTRIBUTE]: 'PostgresqlCustomSample',
        },
      },
    ]);
    // Nothing custom from config queries lands on the instance.
    const instance = dataset('pg-instance', INSTANCE).metrics.map((m) => m.name);
    expect(instance.filter((n) => /^(ShopCount|PostgresqlCustom)Sample\./.test(n))).toEqual([]);
    expect(datasets(documents)[0]?.entity.type).toBe('pg-instance');
  });

  it('names metrics <sampleName>.<column>, typed as configured, booleans 1/0', () => {
    const attributes = {
      grp: 'g1',
      grp_len: '2',
      db_label: dbB,
      'db.namespace': dbB,
      [CUSTOM_SAMPLE_ATTRIBUTE]: 'ShopCountSample',
    };
    expect(shopMetrics('g1')).toEqual([
      { name: 'ShopCountSample.n', type: 'cumulative-rate', value: 10, attributes },
      { name: 'ShopCountSample.doubled', type: 'cumulative-count', value: 20, attributes },
      { name: 'ShopCountSample.flag', type: 'gauge', value: 1, attributes },
      { name: 'ShopCountSample.ratio', type: 'gauge', value: 0.5, attributes },
      { name: 'ShopCountSample.n_text', type: 'gauge', value: 10, attributes },
    ]);
  });

  it('drops non-finite numbers and NULL columns', () => {
    const g2 = shopMetrics('g2');
    expect(g2.map((m) => [m.name, m.value])).toEqual([
      ['ShopCountSample.n', 20],
      ['ShopCountSample.doubled', 40],
      ['ShopCountSample.flag', 0],
      ['ShopCountSample.n_text', 20],
    ]);
    const all = datasets(documents).flatMap((d) => d.metrics);
    expect(all.some((m) => m.name.endsWith('.missing') || 'missing' in m.attributes)).toBe(false);
  });
});

describe('options and protocol', () => {
  it('passes the structural checker', () => {
    expect(documents.length).toBeGreaterThan(0);
    for (const doc of documents) {
      expect(
        v4DocumentProblems(JSON.parse(JSON.stringify(doc)), {
          name: V4_INTEGRATION_NAME,
          version: OPTIONS.integrationVersion,
        }),
      ).toEqual([]);
    }
  });

  it('reports no custom metrics when metrics are off', () => {
    const off = datasets(buildV4Documents(batch, { ...OPTIONS, metrics: false }, NOW));
    expect(off.map((d) => d.entity.type)).toEqual(['pg-instance']);
    expect(off.flatMap((d) => d.metrics)).toEqual([]);
  });

  it('reads source type names case-insensitively, nothing else', () => {
    expect(customMetricType('PDelta')).toBe('cumulative-count');
    expect(customMetricType('prate')).toBe('cumulative-rate');
    expect(customMetricType('GAUGE')).toBe('gauge');
    expect(customMetricType('attribute')).toBe('attribute');
    expect(customMetricType('histogram')).toBeUndefined();
    expect(customMetricType('toString')).toBeUndefined();
    expect(customMetricType(1)).toBeUndefined();
    expect(customMetricType(null)).toBeUndefined();
  });
});
