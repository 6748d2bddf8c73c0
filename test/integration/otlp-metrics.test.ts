import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OtlpMetricsAdapter } from '../../src/adapters/otlp/otlp-metrics-adapter.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import {
  startGrpcReceiver,
  startHttpReceiver,
  type OtlpReceiver,
  type ReceivedMetric,
  type ReceivedResourceMetrics,
} from '../helpers/otlp-receiver.js';
import { probeBatch } from '../helpers/semantic-batch.js';
import { otlpTestSettings } from '../helpers/otlp-settings.js';

const pgUrl = inject('pgUrl');
const major = inject('pgMajor');

let dbUrl: string;
let db: string;

function collect(): Promise<UnifiedMetrics> {
  return probeBatch(dbUrl, db, major, {
    name: 'otlp-test',
    host: '127.0.0.1',
    port: 5432,
    labels: { env: 'test' },
  });
}

function last(receiver: OtlpReceiver): ReceivedResourceMetrics {
  const request = receiver.requests.at(-1);
  expect(request, 'a request').toBeDefined();
  expect(request).toHaveLength(1);
  return request?.[0] as ReceivedResourceMetrics;
}

function metric(rm: ReceivedResourceMetrics, name: string): ReceivedMetric {
  const found = rm.metrics.filter((m) => m.name === name);
  expect(found, name).toHaveLength(1);
  return found[0] as ReceivedMetric;
}

beforeAll(async () => {
  dbUrl = await freshDatabase(pgUrl, 'pgql_otlp');
  db = new URL(dbUrl).pathname.slice(1);
}, 30_000);

describe.each([
  { protocol: 'grpc' as const, compression: 'none' as const, start: startGrpcReceiver },
  { protocol: 'http/protobuf' as const, compression: 'gzip' as const, start: startHttpReceiver },
  { protocol: 'http/json' as const, compression: 'none' as const, start: startHttpReceiver },
])('OTLP metrics over $protocol', ({ protocol, compression, start }) => {
  let receiver: OtlpReceiver;
  let adapter: OtlpMetricsAdapter;
  const schema = `s_${protocol.replace(/\W/g, '_')}`;

  beforeAll(async () => {
    receiver = await start();
    adapter = new OtlpMetricsAdapter({
      settings: otlpTestSettings({ protocol, compression, endpoint: receiver.url }),
      version: 'test',
    });
    await queryOnce(
      dbUrl,
      `CREATE SCHEMA ${schema};
       CREATE TABLE ${schema}.kept (id int PRIMARY KEY, note text);
       CREATE TABLE ${schema}.gone (id int);
       INSERT INTO ${schema}.kept SELECT g, repeat('x', 200) FROM generate_series(1, 500) g;
       INSERT INTO ${schema}.gone SELECT generate_series(1, 10);`,
    );
  }, 30_000);

  afterAll(async () => {
    await adapter?.shutdown();
    await receiver?.close();
  });

  it('sends the semantic metrics with the server as the resource', async () => {
    const [before] = await queryOnce<{ commits: string; size: string; max: string }>(
      dbUrl,
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
              pg_table_size('${schema}.kept') AS size, current_setting('max_connections') AS max`,
    );
    await adapter.export(await collect());
    await adapter.forceFlush();
    const rm = last(receiver);

    expect(rm.resource).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': 5432,
      'db.system.name': 'postgresql',
      'service.name': 'pgquerylens-test',
      env: 'test',
      'deployment.environment.name': 'ci',
    });
    expect(rm.resource['service.instance.id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);

    const commits = metric(rm, 'postgresql.commits');
    expect(commits).toMatchObject({
      unit: '1',
      type: 'sum',
      monotonic: true,
      temporality: 'cumulative',
    });
    const ours = commits.points.find((p) => p.attributes['db.namespace'] === db);
    expect(ours?.valueType).toBe('int');
    expect(ours?.value).toBeGreaterThanOrEqual(Number(before?.commits));

    const size = metric(rm, 'postgresql.table.size');
    expect(size).toMatchObject({ unit: 'By', type: 'sum', monotonic: false });
    const kept = size.points.find(
      (p) =>
        p.attributes['db.namespace'] === `${db}|${schema}` &&
        p.attributes['db.collection.name'] === 'kept',
    );
    expect(kept).toMatchObject({ valueType: 'int', value: Number(before?.size) });

    const max = metric(rm, 'postgresql.connection.max');
    expect(max.type).toBe('gauge');
    expect(max.points).toEqual([{ attributes: {}, value: Number(before?.max), valueType: 'int' }]);

    const duration = metric(rm, 'postgresql.bgwriter.duration');
    expect(duration).toMatchObject({ unit: 'ms', type: 'sum', monotonic: true });
    expect(duration.points.map((p) => p.valueType)).toEqual(['double', 'double']);
    expect(duration.points.map((p) => p.attributes.type).sort()).toEqual(['sync', 'write']);
  }, 30_000);

  it('stops exporting the series of a dropped table', async () => {
    const tableSeries = (rm: ReceivedResourceMetrics, table: string): number =>
      rm.metrics
        .flatMap((m) => m.points)
        .filter(
          (p) =>
            p.attributes['db.namespace'] === `${db}|${schema}` &&
            p.attributes['db.collection.name'] === table,
        ).length;
    await adapter.export(await collect());
    await adapter.forceFlush();
    expect(tableSeries(last(receiver), 'gone')).toBeGreaterThan(0);

    await queryOnce(dbUrl, `DROP TABLE ${schema}.gone`);
    await adapter.export(await collect());
    await adapter.forceFlush();
    const after = last(receiver);
    expect(tableSeries(after, 'gone')).toBe(0);
    expect(tableSeries(after, 'kept')).toBeGreaterThan(0);
    expect(metric(after, 'postgresql.commits').points.length).toBeGreaterThan(0);
  }, 30_000);
});

describe('OTLP metrics toward an endpoint that is down', () => {
  it.each(['grpc', 'http/protobuf'] as const)(
    'never throws from export and shuts down in bounded time (%s)',
    async (protocol) => {
      // Port 9 (discard) on loopback: nothing listens, connections are refused.
      const endpoint = protocol === 'grpc' ? 'http://127.0.0.1:9' : 'http://127.0.0.1:9/v1/metrics';
      const adapter = new OtlpMetricsAdapter({
        settings: otlpTestSettings({ protocol, endpoint, timeoutMs: 1_000 }),
        version: 'test',
      });
      const batch = await collect();
      await expect(adapter.export(batch)).resolves.toBeUndefined();
      const started = Date.now();
      await adapter.forceFlush();
      await adapter.shutdown();
      expect(Date.now() - started).toBeLessThan(6_000);
    },
    20_000,
  );
});
