import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryBatchBuffer } from '../../src/adapters/datastore/batch-buffer.js';
import { DatastoreAdapter } from '../../src/adapters/datastore/datastore-adapter.js';
import { createDatastorePool } from '../../src/adapters/datastore/datastore-pool.js';
import { DatastoreWriter } from '../../src/adapters/datastore/datastore-writer.js';
import { collectGarbage } from '../../src/adapters/datastore/garbage-collector.js';
import { syncMetricsTables } from '../../src/adapters/datastore/metrics-tables.js';
import { migrate } from '../../src/adapters/datastore/migrate.js';
import { MIGRATIONS } from '../../src/adapters/datastore/migrations.js';
import { partitionName, weekStart } from '../../src/adapters/datastore/partitions.js';
import { pendingFromBatch, type PendingBatch } from '../../src/adapters/datastore/pending-batch.js';
import { SpoolBatchBuffer } from '../../src/adapters/datastore/spool-batch-buffer.js';
import { builtinProbeSchemas } from '../../src/collectors/builtin-collectors.js';
import { pgSettings } from '../../src/collectors/probes/pg-settings.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProbeSample } from '../../src/core/model/probe-sample.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { emptyParts } from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { runProbes } from '../helpers/probe-run.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const pgUrl = inject('pgUrl');
const schemas = builtinProbeSchemas();
const pools: ReturnType<typeof createDatastorePool>[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function poolFor(url: string): ReturnType<typeof createDatastorePool> {
  const pool = createDatastorePool({ url, maxConnections: 5 });
  pools.push(pool);
  return pool;
}

async function readyDatastore(): Promise<{
  url: string;
  pool: ReturnType<typeof createDatastorePool>;
}> {
  const url = await freshDatabase(pgUrl);
  const pool = poolFor(url);
  await migrate(pool);
  const client = await pool.connect();
  try {
    await syncMetricsTables(client, schemas);
  } finally {
    client.release();
  }
  return { url, pool };
}

/** A batch with the given samples, as the runner would produce it. */
function batchOf(target: string, probes: ProbeSample[], startedAt = new Date()): UnifiedMetrics {
  return {
    schemaVersion: 1,
    target: { name: target, host: '127.0.0.1', port: 5432, labels: { env: 'test' } },
    server: {},
    metadata: {
      collectorVersion: 'test',
      startedAt: startedAt.toISOString(),
      finishedAt: startedAt.toISOString(),
      collectors: [],
    },
    ...emptyParts(),
    probes,
  };
}

function pending(batch: UnifiedMetrics): PendingBatch {
  const p = pendingFromBatch(batch);
  if (p === undefined) throw new Error('batch has no rows');
  return p;
}

/** Real samples from the test server, restamped at `at`. */
async function realSamples(at: Date): Promise<ProbeSample[]> {
  const runs = await runProbes(pgUrl, [pgStatDatabase, pgSettings]);
  return [...runs.values()].flatMap((r) =>
    r.samples.map((s) => ({ ...s, collectedAt: at.toISOString() })),
  );
}

async function count(url: string, table: string): Promise<number> {
  const rows = await queryOnce<{ n: number }>(
    url,
    `SELECT count(*)::int AS n FROM metrics.${table}`,
  );
  return rows[0]?.n ?? -1;
}

describe('datastore schema', () => {
  it('migrates an empty database, records the version, and re-running applies nothing', async () => {
    const url = await freshDatabase(pgUrl);
    const pool = poolFor(url);
    const first = await migrate(pool);
    expect(first).toEqual({
      from: 0,
      to: MIGRATIONS.length,
      applied: MIGRATIONS.map((m) => m.version),
    });
    const again = await Promise.all([migrate(pool), migrate(pool)]);
    expect(again.map((r) => r.applied)).toEqual([[], []]);
    const versions = await queryOnce<{ version: number; description: string }>(
      url,
      'SELECT version, description FROM schema_version ORDER BY version',
    );
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await queryOnce<{ t: string }>(
      url,
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.map((t) => t.t)).toEqual(
      expect.arrayContaining([
        'connections',
        'probe_configs',
        'change_tracking',
        'ingested_batches',
      ]),
    );
  });

  it('creates one partitioned table per probe with typed columns', async () => {
    const { url } = await readyDatastore();
    const parents = await queryOnce<{ relname: string }>(
      url,
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'metrics' AND c.relkind = 'p'`,
    );
    expect(parents.map((p) => p.relname).sort()).toEqual(schemas.map((s) => s.name).sort());
    const columns = await queryOnce<{ column_name: string; data_type: string }>(
      url,
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'metrics' AND table_name = 'pg_stat_database'`,
    );
    const types = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]));
    expect(types).toMatchObject({
      connection_id: 'integer',
      database_name: 'text',
      collected_at: 'timestamp with time zone',
      xact_commit: 'bigint',
      blk_read_time: 'double precision',
      stats_reset: 'timestamp with time zone',
    });
  });
});

describe('datastore writes', () => {
  it('stores every row of real samples with COPY, typed, under a registered connection', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'team-a' });
    const samples = await realSamples(new Date());
    const batch = pending(batchOf('copy-test', samples));
    const result = await writer.write([batch]);
    const expected = samples.reduce((n, s) => n + s.rows.length, 0);
    expect(result).toMatchObject({ rows: expected, duplicateBatches: 0, coercedValues: 0 });
    const dbRows = samples.filter((s) => s.probe === 'pg_stat_database').length;
    expect(await count(url, 'pg_stat_database')).toBe(dbRows);
    const stored = await queryOnce<{
      database_name: string;
      xact_commit: string;
      size_bytes: string;
    }>(
      url,
      "SELECT database_name, xact_commit, size_bytes FROM metrics.pg_stat_database WHERE datname = 'postgres'",
    );
    expect(stored[0]?.database_name).toBe('postgres');
    expect(Number(stored[0]?.size_bytes)).toBeGreaterThan(0);
    const connection = await queryOnce<{ name: string; source: string; owner_username: string }>(
      url,
      'SELECT name, source, owner_username FROM connections',
    );
    expect(connection).toEqual([{ name: 'copy-test', source: 'config', owner_username: 'team-a' }]);
  });

  it('stores a batch once however often it is written (replay, repeated load)', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'x' });
    const batch = pending(batchOf('dup', await realSamples(new Date())));
    const first = await writer.write([batch]);
    const second = await writer.write([batch, batch]);
    expect(second).toMatchObject({ rows: 0, duplicateBatches: 2 });
    expect(await count(url, 'pg_stat_database')).toBe(
      batch.probes.filter((p) => p.probe === 'pg_stat_database').length,
    );
    expect(first.rows).toBeGreaterThan(0);
  });

  it('stores a change-tracked probe only when its content changed', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'x' });
    const settings = (await realSamples(new Date())).find((s) => s.probe === 'pg_settings');
    if (settings === undefined) throw new Error('no settings sample');
    const at = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString();
    await writer.write([pending(batchOf('ct', [{ ...settings, collectedAt: at(0) }]))]);
    const unchanged = await writer.write([
      pending(batchOf('ct', [{ ...settings, collectedAt: at(1) }])),
    ]);
    expect(unchanged).toMatchObject({ rows: 0, unchangedSamples: 1 });
    const changedRows = settings.rows.map((r) =>
      r.name === 'work_mem' ? { ...r, setting: '65536' } : r,
    );
    const changed = await writer.write([
      pending(batchOf('ct', [{ ...settings, rows: changedRows, collectedAt: at(2) }])),
    ]);
    expect(changed.rows).toBe(settings.rows.length);
    const snapshots = await queryOnce<{ n: number }>(
      url,
      'SELECT count(DISTINCT collected_at)::int AS n FROM metrics.pg_settings',
    );
    expect(snapshots[0]?.n).toBe(2);
  });

  it('records a change-tracked probe becoming empty, so A, empty, A stores A twice', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'x' });
    const settings = (await realSamples(new Date())).find((s) => s.probe === 'pg_settings');
    if (settings === undefined) throw new Error('no settings sample');
    const t0 = Date.now();
    const at = (minutes: number): string => new Date(t0 + minutes * 60_000).toISOString();
    await writer.write([pending(batchOf('ct-empty', [{ ...settings, collectedAt: at(0) }]))]);
    const emptied = await writer.write([
      pending(batchOf('ct-empty', [{ ...settings, rows: [], collectedAt: at(1) }])),
    ]);
    expect(emptied).toMatchObject({ rows: 0, unchangedSamples: 0 });
    const back = await writer.write([
      pending(batchOf('ct-empty', [{ ...settings, collectedAt: at(2) }])),
    ]);
    expect(back.rows).toBe(settings.rows.length);
    const latest = await queryOnce<{ t: Date }>(
      url,
      "SELECT collected_at AS t FROM change_tracking WHERE probe = 'pg_settings'",
    );
    expect(new Date(latest[0]?.t ?? 0).toISOString()).toBe(at(2));
  });

  it('puts rows either side of a week boundary into the two Monday-named partitions', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'x' });
    const sunday = new Date('2026-11-22T23:59:59.999Z');
    const monday = new Date('2026-11-23T00:00:00.000Z');
    expect(weekStart(sunday).toISOString()).toBe('2026-11-16T00:00:00.000Z');
    expect(weekStart(monday).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    const samples = (await realSamples(sunday)).filter((s) => s.probe === 'pg_stat_database');
    await Promise.all([
      writer.write([pending(batchOf('week-a', samples, sunday))]),
      new DatastoreWriter({ pool, schemas, owner: 'x' }).write([
        pending(
          batchOf(
            'week-b',
            samples.map((s) => ({ ...s, collectedAt: monday.toISOString() })),
            monday,
          ),
        ),
      ]),
    ]);
    const parts = await queryOnce<{ part: string; n: number }>(
      url,
      'SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM metrics.pg_stat_database GROUP BY 1 ORDER BY 1',
    );
    expect(parts).toEqual([
      { part: 'metrics.pg_stat_database_20261116', n: samples.length },
      { part: 'metrics.pg_stat_database_20261123', n: samples.length },
    ]);
  });
});

describe('garbage collection', () => {
  it('drops whole expired partitions by their range, keeping the latest change-tracked snapshot', async () => {
    const { url, pool } = await readyDatastore();
    const writer = new DatastoreWriter({ pool, schemas, owner: 'x' });
    const now = new Date('2026-11-21T12:00:00Z');
    const old = new Date('2026-10-01T12:00:00Z'); // 7 weeks back
    const recent = new Date('2026-11-18T12:00:00Z');
    const real = await realSamples(old);
    const dbSamples = real.filter((s) => s.probe === 'pg_stat_database');
    const settings = real.filter((s) => s.probe === 'pg_settings');
    await writer.write([pending(batchOf('gc', [...dbSamples, ...settings], old))]);
    await writer.write([
      pending(
        batchOf(
          'gc',
          dbSamples.map((s) => ({ ...s, collectedAt: recent.toISOString() })),
          recent,
        ),
      ),
    ]);
    const lastWeek = new Date('2026-11-12T12:00:00Z'); // its week ended 5.5 days before `now`
    await writer.write([
      pending(
        batchOf(
          'gc',
          dbSamples.map((s) => ({ ...s, collectedAt: lastWeek.toISOString() })),
          lastWeek,
        ),
      ),
    ]);
    // Settings kept 10 days here: the old snapshot is expired but still the latest one.
    await queryOnce(
      url,
      "INSERT INTO probe_configs (name, retention_days) VALUES ('pg_settings', 10)",
    );
    // One connection asking for 1 day must not cut everyone's 7 days of shared partitions.
    await queryOnce(
      url,
      "INSERT INTO probe_configs (connection_id, name, retention_days) SELECT id, 'pg_stat_database', 1 FROM connections",
    );
    const result = await collectGarbage(pool, { schemas, now: () => now });
    const oldDb = partitionName('pg_stat_database', weekStart(old));
    expect(result.dropped).toContain(oldDb);
    expect(result.dropped).not.toContain(partitionName('pg_stat_database', weekStart(recent)));
    expect(result.dropped).not.toContain(partitionName('pg_stat_database', weekStart(lastWeek)));
    expect(result.protected).toContain(partitionName('pg_settings', weekStart(old)));
    expect(await count(url, 'pg_stat_database')).toBe(2 * dbSamples.length);
    expect(await count(url, 'pg_settings')).toBeGreaterThan(0);
    // A second pass finds nothing more to do.
    const again = await collectGarbage(pool, { schemas, now: () => now });
    expect(again.dropped).toEqual([]);
  });
});

describe('datastore outages', () => {
  it('buffers while the datastore is unreachable and writes every row once when it returns', async () => {
    const { url } = await readyDatastore();
    const proxy = await TcpProxy.start(url);
    const pool = createDatastorePool({ url: proxy.urlFor(url), maxConnections: 3 });
    const adapter = new DatastoreAdapter({
      pool,
      schemas,
      buffer: new MemoryBatchBuffer(1_000_000),
      logger: silentLogger,
      owner: 'x',
      batchingDelayMs: 20,
      retry: { initialMs: 20, maxMs: 100 },
    });
    try {
      adapter.start();
      const samples = (await realSamples(new Date())).filter((s) => s.probe === 'pg_stat_database');
      await adapter.export(batchOf('outage', samples, new Date(Date.now() - 3_000)));
      await adapter.forceFlush();
      await proxy.down();
      let produced = samples.reduce((n, s) => n + s.rows.length, 0);
      for (let i = 0; i < 5; i++) {
        const at = new Date(Date.now() - 2_000 + i * 100);
        const restamped = samples.map((s) => ({ ...s, collectedAt: at.toISOString() }));
        await adapter.export(batchOf('outage', restamped, at));
        produced += samples.reduce((n, s) => n + s.rows.length, 0);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(adapter.stats.failedWrites).toBeGreaterThan(0);
      expect(adapter.stats.bufferedRows).toBeGreaterThan(0);
      await proxy.up();
      await expect.poll(() => adapter.stats.bufferedRows, { timeout: 10_000 }).toBe(0);
      expect(await count(url, 'pg_stat_database')).toBe(produced);
      expect(adapter.stats.droppedRows).toBe(0);
    } finally {
      await adapter.shutdown();
      await proxy.down();
    }
  });

  it('keeps batches in the spool across a crash and replays them on the next start', async () => {
    const { url } = await readyDatastore();
    const dir = await mkdtemp(path.join(tmpdir(), 'pgql-spool-'));
    dirs.push(dir);
    const samples = (await realSamples(new Date())).filter((s) => s.probe === 'pg_stat_database');
    // First life: the datastore is unreachable; the process dies without shutting down.
    const deadProxy = await TcpProxy.start(url);
    await deadProxy.down();
    const first = await SpoolBatchBuffer.open(dir, 64 * 1024 * 1024, silentLogger);
    for (let i = 0; i < 3; i++) {
      const at = new Date(Date.now() - 10_000 + i * 1_000);
      await first.append(
        pending(
          batchOf(
            'crash',
            samples.map((s) => ({ ...s, collectedAt: at.toISOString() })),
            at,
          ),
        ),
      );
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(3);
    // Second life: same spool, datastore back.
    const spool = await SpoolBatchBuffer.open(dir, 64 * 1024 * 1024, silentLogger);
    expect(spool.batches).toBe(3);
    const adapter = new DatastoreAdapter({
      pool: createDatastorePool({ url, maxConnections: 2 }),
      schemas,
      buffer: spool,
      logger: silentLogger,
      owner: 'x',
      batchingDelayMs: 10,
    });
    adapter.start();
    await expect.poll(() => spool.batches, { timeout: 10_000 }).toBe(0);
    await adapter.shutdown();
    expect(await count(url, 'pg_stat_database')).toBe(
      3 * samples.reduce((n, s) => n + s.rows.length, 0),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('drops the oldest rows when the buffer is full, and counts them', async () => {
    const buffer = new MemoryBatchBuffer(10);
    const row = { a: 1 };
    const sample = (n: number): ProbeSample => ({
      probe: 'pg_stat_database',
      scope: 'database',
      database: 'd',
      collectedAt: new Date(Date.now() + n).toISOString(),
      rows: Array.from({ length: 4 }, () => row),
    });
    for (let i = 0; i < 4; i++) await buffer.append(pending(batchOf('full', [sample(i)])));
    expect(buffer.rows).toBe(8);
    expect(buffer.droppedRows).toBe(8);
  });
});

describe('datastore shutdown', () => {
  it('writes everything buffered at shutdown, over several writes', async () => {
    const { url, pool } = await readyDatastore();
    const adapter = new DatastoreAdapter({
      pool,
      schemas,
      buffer: new MemoryBatchBuffer(1_000_000),
      logger: silentLogger,
      owner: 'x',
      batchingDelayMs: 60_000, // the loop never drains on its own here
      maxRowsPerWrite: 1,
    });
    adapter.start();
    await expect.poll(() => adapter.ready, { timeout: 10_000 }).toBe(true);
    const samples = (await realSamples(new Date())).filter((s) => s.probe === 'pg_stat_database');
    let produced = 0;
    for (let i = 0; i < 4; i++) {
      const at = new Date(Date.now() - 5_000 + i * 100);
      await adapter.export(
        batchOf(
          'drain',
          samples.map((s) => ({ ...s, collectedAt: at.toISOString() })),
          at,
        ),
      );
      produced += samples.reduce((n, s) => n + s.rows.length, 0);
    }
    pools.splice(pools.indexOf(pool), 1); // the adapter ends it
    await adapter.shutdown();
    expect(adapter.stats.bufferedRows).toBe(0);
    expect(await count(url, 'pg_stat_database')).toBe(produced);
  });
});

describe('a batch the datastore refuses', () => {
  it('is set aside and counted; the batches around it are stored', async () => {
    const { url, pool } = await readyDatastore();
    const adapter = new DatastoreAdapter({
      pool,
      schemas,
      buffer: new MemoryBatchBuffer(1_000_000),
      logger: silentLogger,
      owner: 'x',
      batchingDelayMs: 10,
      retry: { initialMs: 10, maxMs: 50 },
    });
    const at = (i: number): string => new Date(Date.now() - 10_000 + i * 100).toISOString();
    const role = (i: number, flags: string): ProbeSample => ({
      probe: 'pg_node_role',
      scope: 'server',
      collectedAt: at(i),
      rows: [{ is_in_recovery: false, primary_role: 'standalone', role_flags: flags }],
    });
    // Valid JSON that jsonb refuses (it cannot hold \u0000): a data error, not an outage.
    await adapter.export(batchOf('poison', [role(0, '["standalone"]')], new Date(at(0))));
    await adapter.export(batchOf('poison', [role(1, '"\\u0000"')], new Date(at(1))));
    await adapter.export(batchOf('poison', [role(2, '["standalone"]')], new Date(at(2))));
    adapter.start();
    await expect.poll(() => adapter.stats.bufferedRows, { timeout: 10_000 }).toBe(0);
    pools.splice(pools.indexOf(pool), 1);
    await adapter.shutdown();
    expect(adapter.stats.rejectedRows).toBe(1);
    expect(await count(url, 'pg_node_role')).toBe(2);
  });
});
