import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { pgDatabase } from '../../src/collectors/probes/pg-database.js';
import { pgLocks } from '../../src/collectors/probes/pg-locks.js';
import { pgReplicationSlots } from '../../src/collectors/probes/pg-replication-slots.js';
import { pgServerInfo } from '../../src/collectors/probes/pg-server-info.js';
import { pgSettings } from '../../src/collectors/probes/pg-settings.js';
import { pgStatActivitySummary } from '../../src/collectors/probes/pg-stat-activity-summary.js';
import { pgStatAllIndexes } from '../../src/collectors/probes/pg-stat-all-indexes.js';
import { pgStatAllTables } from '../../src/collectors/probes/pg-stat-all-tables.js';
import { pgStatBgwriter } from '../../src/collectors/probes/pg-stat-bgwriter.js';
import { pgStatCheckpointer } from '../../src/collectors/probes/pg-stat-checkpointer.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import { pgStatDatabaseConflicts } from '../../src/collectors/probes/pg-stat-database-conflicts.js';
import { pgStatIo } from '../../src/collectors/probes/pg-stat-io.js';
import { pgStatReplication } from '../../src/collectors/probes/pg-stat-replication.js';
import { pgStatStatements } from '../../src/collectors/probes/pg-stat-statements.js';
import { pgStatUserFunctions } from '../../src/collectors/probes/pg-stat-user-functions.js';
import { pgStatWal } from '../../src/collectors/probes/pg-stat-wal.js';
import { pgTableWraparound } from '../../src/collectors/probes/pg-table-wraparound.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import {
  deriveMetricPoints,
  METRIC_DESCRIPTORS,
} from '../../src/core/semantic-metrics/catalogue.js';
import type { MetricPoint } from '../../src/core/semantic-metrics/metric-types.js';
import { freshDatabase } from '../helpers/fresh-database.js';
import { runProbes } from '../helpers/probe-run.js';

const pgUrl = inject('pgUrl');
const major = inject('pgMajor');

const PROBES: readonly ProbeCollector[] = [
  pgStatDatabase,
  pgStatDatabaseConflicts,
  pgStatAllTables,
  pgStatAllIndexes,
  pgStatUserFunctions,
  pgTableWraparound,
  pgDatabase,
  pgSettings,
  pgServerInfo,
  pgStatActivitySummary,
  pgLocks,
  pgStatBgwriter,
  pgStatCheckpointer,
  pgStatWal,
  pgStatIo,
  pgStatReplication,
  pgReplicationSlots,
  pgStatStatements,
];

/** What the server's views said just before the probes ran. */
interface Before {
  readonly xactCommit: number;
  readonly live: number;
  readonly dead: number;
  readonly inserted: number;
  readonly tableSize: number;
  readonly indexSize: number;
  readonly indexScans: number;
  readonly userTables: number;
  readonly maxConnections: number;
  readonly dbSize: number;
  readonly xidAge: number;
  readonly checkpointsTimed: number;
  readonly buffersAlloc: number;
}

let dbUrl: string;
let db: string;
let holder: pg.Client;
let before: Before;
let batch: UnifiedMetrics;
let points: MetricPoint[];

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Polls until `check` holds: before 15 statistics reach the views asynchronously. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function one<T extends pg.QueryResultRow>(
  client: pg.Client,
  sql: string,
  params: unknown[] = [],
): Promise<T> {
  const row = (await client.query<T>(sql, params)).rows[0];
  if (row === undefined) throw new Error(`no row: ${sql}`);
  return row;
}

async function workload(): Promise<void> {
  const c = await connect(dbUrl);
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    // No autovacuum: it would change dead rows between our read and the probes'.
    await c.query(`CREATE SCHEMA sem;
      CREATE TABLE sem.orders (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
      CREATE TABLE public.orders (id int) WITH (autovacuum_enabled = false);
      CREATE FUNCTION sem.f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;`);
    await c.query(
      "INSERT INTO sem.orders SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g",
    );
    await c.query('DELETE FROM sem.orders WHERE id <= 100');
    await c.query('INSERT INTO public.orders SELECT generate_series(1, 10)');
    await c.query('VACUUM public.orders');
    await c.query('SET enable_seqscan = off');
    for (let i = 0; i < 5; i++)
      await c.query('SELECT note FROM sem.orders WHERE id = $1', [500 + i]);
    await c.query("SET track_functions = 'all'");
    for (let i = 0; i < 3; i++) await c.query('SELECT sem.f()');
  } finally {
    // Ending the session flushes its statistics (15+); before 15 they follow asynchronously.
    await c.end();
  }
}

async function readBefore(): Promise<Before> {
  const c = await connect(dbUrl);
  try {
    await until('statistics of the workload', async () => {
      const r = await c.query<{ ins: string; calls: string | null }>(
        `SELECT (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = 'sem.orders'::regclass) AS ins,
                (SELECT calls FROM pg_stat_user_functions WHERE funcname = 'f') AS calls`,
      );
      await c.query('SELECT pg_stat_clear_snapshot()');
      return Number(r.rows[0]?.ins) === 1000 && Number(r.rows[0]?.calls) === 3;
    });
    const t = await one<Record<string, string>>(
      c,
      `SELECT n_live_tup, n_dead_tup, n_tup_ins, pg_table_size(relid) AS size
         FROM pg_stat_user_tables WHERE relid = 'sem.orders'::regclass`,
    );
    const i = await one<Record<string, string>>(
      c,
      `SELECT idx_scan, pg_relation_size(indexrelid) AS size
         FROM pg_stat_user_indexes WHERE indexrelid = 'sem.orders_pkey'::regclass`,
    );
    const d = await one<Record<string, string>>(
      c,
      `SELECT s.xact_commit, pg_database_size(s.datid) AS size, age(d.datfrozenxid) AS xid_age,
              (SELECT count(*) FROM pg_stat_user_tables) AS user_tables,
              current_setting('max_connections') AS max_connections
         FROM pg_stat_database s JOIN pg_database d ON d.oid = s.datid
        WHERE s.datname = current_database()`,
    );
    const b = await one<Record<string, string>>(
      c,
      major >= 17
        ? 'SELECT num_timed AS timed, (SELECT buffers_alloc FROM pg_stat_bgwriter) AS alloc FROM pg_stat_checkpointer'
        : 'SELECT checkpoints_timed AS timed, buffers_alloc AS alloc FROM pg_stat_bgwriter',
    );
    return {
      xactCommit: Number(d.xact_commit),
      live: Number(t.n_live_tup),
      dead: Number(t.n_dead_tup),
      inserted: Number(t.n_tup_ins),
      tableSize: Number(t.size),
      indexSize: Number(i.size),
      indexScans: Number(i.idx_scan),
      userTables: Number(d.user_tables),
      maxConnections: Number(d.max_connections),
      dbSize: Number(d.size),
      xidAge: Number(d.xid_age),
      checkpointsTimed: Number(b.timed),
      buffersAlloc: Number(b.alloc),
    };
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  dbUrl = await freshDatabase(pgUrl, 'pgql_sem');
  db = new URL(dbUrl).pathname.slice(1);
  await workload();
  before = await readBefore();
  // A session held open in the database, with a lock, while the probes read.
  holder = await connect(dbUrl);
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE public.orders IN SHARE MODE');
  const runs = await runProbes(dbUrl, PROBES, [db]);
  const now = new Date().toISOString();
  batch = {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: 'sem', host: '127.0.0.1', port: 5432, labels: {} },
    server: { versionNum: major * 10_000 },
    metadata: {
      collectorVersion: 'test',
      startedAt: now,
      finishedAt: now,
      collectors: [...runs.values()].flatMap((r) => r.statuses),
    },
    ...emptyParts(),
    probes: [...runs.values()].flatMap((r) => r.samples),
  };
  points = deriveMetricPoints(batch);
}, 60_000);

afterAll(async () => {
  await holder?.query('ROLLBACK').catch(() => undefined);
  await holder?.end();
});

function find(name: string, attrs: Record<string, unknown> = {}): MetricPoint[] {
  return points.filter(
    (p) =>
      p.descriptor.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
}

function value(name: string, attrs: Record<string, unknown> = {}): number | undefined {
  const found = find(name, attrs);
  expect(found, `${name} ${JSON.stringify(attrs)}`).toHaveLength(1);
  return found[0]?.value;
}

const ORDERS = { 'db.namespace': '', 'db.collection.name': 'orders' };

describe('semantic metrics from real probes', () => {
  it('ran every probe that this server version has', () => {
    for (const status of batch.metadata.collectors) {
      const ok =
        status.success || (status.unavailable === true && status.collector === 'pg_stat_io');
      expect(ok, `${status.collector}: ${status.error}`).toBe(true);
    }
  });

  it('gives finite values, integers where declared, one point per series, no server identity', () => {
    const series = new Set<string>();
    const known = new Set(METRIC_DESCRIPTORS);
    for (const p of points) {
      expect(known.has(p.descriptor), p.descriptor.name).toBe(true);
      expect(Number.isFinite(p.value), p.descriptor.name).toBe(true);
      if (p.descriptor.integer) expect(Number.isInteger(p.value), p.descriptor.name).toBe(true);
      for (const [key, v] of Object.entries(p.attributes)) {
        expect(['string', 'number', 'boolean'], key).toContain(typeof v);
        expect(p.descriptor.attributes, `${p.descriptor.name} carries ${key}`).toContain(key);
      }
      expect(Object.keys(p.attributes).some((k) => /^(server|host|port|service)/.test(k))).toBe(
        false,
      );
      const key = `${p.descriptor.name} ${JSON.stringify(Object.entries(p.attributes).sort())}`;
      expect(series.has(key), key).toBe(false);
      series.add(key);
    }
    expect(deriveMetricPoints(batch)).toEqual(points);
  });

  it('matches pg_stat_database and pg_database', () => {
    const dbAttrs = { 'db.namespace': db };
    expect(value('postgresql.commits', dbAttrs)).toBeGreaterThanOrEqual(before.xactCommit);
    expect(value('postgresql.tup_inserted', dbAttrs)).toBeGreaterThanOrEqual(before.inserted);
    expect(value('postgresql.database.count')).toBe(1);
    const size = value('postgresql.db_size', dbAttrs) ?? 0;
    expect(Math.abs(size - before.dbSize)).toBeLessThan(before.dbSize * 0.1);
    expect(value('postgresql.database.xid.age', dbAttrs)).toBeGreaterThanOrEqual(before.xidAge);
    expect(find('postgresql.commits', dbAttrs)[0]?.object).toEqual({ database: db });
    expect(find('postgresql.query.conflicts', dbAttrs)).toHaveLength(5);
    // pg_database also lists the other databases; only non-templates get a size from it.
    expect(find('postgresql.db_size', { 'db.namespace': 'template0' })).toEqual([]);
    if (major >= 14) expect(value('postgresql.sessions', dbAttrs)).toBeGreaterThan(0);
    else expect(find('postgresql.sessions')).toEqual([]);
  });

  it('matches pg_stat_user_tables for rows, operations, sizes and counts', () => {
    const sem = { ...ORDERS, 'db.namespace': `${db}|sem` };
    expect(value('postgresql.rows', { ...sem, state: 'live' })).toBe(before.live);
    expect(value('postgresql.rows', { ...sem, state: 'dead' })).toBe(before.dead);
    expect(before.dead).toBe(100);
    expect(value('postgresql.operations', { ...sem, operation: 'ins' })).toBe(before.inserted);
    expect(value('postgresql.operations', { ...sem, operation: 'del' })).toBe(100);
    // pg_table_size: the heap with its TOAST and maps.
    expect(value('postgresql.table.size', sem)).toBe(before.tableSize);
    expect(find('postgresql.blocks_read', sem).map((p) => p.attributes.source)).toEqual(
      expect.arrayContaining(['heap_read', 'heap_hit', 'idx_read', 'idx_hit']),
    );
    expect(find('postgresql.rows', sem)[0]?.object).toEqual({
      database: db,
      schema: 'sem',
      table: 'orders',
    });
    // Same table name in another schema: its own series.
    const pub = { ...ORDERS, 'db.namespace': `${db}|public` };
    expect(value('postgresql.table.vacuum.count', pub)).toBe(1);
    expect(value('postgresql.table.vacuum.count', sem)).toBe(0);
    expect(value('postgresql.table.count', { 'db.namespace': db })).toBe(before.userTables);
    // System catalogs are read by the probe but are not user tables.
    expect(find('postgresql.rows', { 'db.namespace': `${db}|pg_catalog` })).toEqual([]);
    expect(value('postgresql.table.xid.age', sem)).toBeGreaterThanOrEqual(0);
  });

  it('matches pg_stat_user_indexes and pg_stat_user_functions', () => {
    const idx = {
      'db.namespace': `${db}|sem`,
      'db.collection.name': 'orders',
      'postgresql.index.name': 'orders_pkey',
    };
    expect(value('postgresql.index.size', idx)).toBe(before.indexSize);
    expect(value('postgresql.index.scans', idx)).toBeGreaterThanOrEqual(before.indexScans);
    expect(before.indexScans).toBeGreaterThanOrEqual(5);
    expect(find('postgresql.index.size', idx)[0]?.object).toEqual({
      database: db,
      schema: 'sem',
      table: 'orders',
      index: 'orders_pkey',
    });
    const fn = { function: 'f', 'db.namespace': `${db}|sem` };
    expect(value('postgresql.function.calls', fn)).toBe(3);
    expect(value('postgresql.function.time', fn)).toBeGreaterThanOrEqual(0);
  });

  it('reads server-wide figures the way the receiver does on this version', () => {
    expect(value('postgresql.connection.max')).toBe(before.maxConnections);
    expect(value('postgresql.bgwriter.buffers.allocated')).toBeGreaterThanOrEqual(
      before.buffersAlloc,
    );
    expect(
      value('postgresql.bgwriter.checkpoint.count', { type: 'scheduled' }),
    ).toBeGreaterThanOrEqual(before.checkpointsTimed);
    const sources = find('postgresql.bgwriter.buffers.writes').map((p) => p.attributes.source);
    if (major >= 17) expect(sources.sort()).toEqual(['bgwriter', 'checkpoints']);
    else expect(sources.sort()).toEqual(['backend', 'backend_fsync', 'bgwriter', 'checkpoints']);
    expect(find('postgresql.bgwriter.duration')).toHaveLength(2);
    expect(value('postgresql.wal.lsn')).toBeGreaterThan(0);
    expect(find('postgresql.wal.records')).toHaveLength(major >= 14 ? 1 : 0);
    expect(find('postgresql.io.operations').length > 0).toBe(major >= 16);
    expect(find('postgresql.checkpointer.restartpoint.completions')).toHaveLength(
      major >= 17 ? 1 : 0,
    );
    expect(value('postgresql.uptime')).toBeGreaterThan(0);
  });

  it('counts sessions and locks of the database', () => {
    expect(value('postgresql.backends', { 'db.namespace': db })).toBeGreaterThanOrEqual(1);
    expect(
      find('postgresql.session.count', {
        'db.namespace': db,
        'postgresql.state': 'idle in transaction',
      }).length,
    ).toBeGreaterThan(0);
    expect(
      value('postgresql.lock.count', {
        'db.namespace': db,
        'postgresql.lock.mode': 'ShareLock',
        'postgresql.lock.type': 'relation',
        'postgresql.lock.granted': true,
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('sums pg_stat_statements per database', () => {
    const time = value('postgresql.query.execution.time', { 'db.namespace': db }) ?? 0;
    expect(time).toBeGreaterThan(0);
    expect(value('postgresql.query.calls', { 'db.namespace': db })).toBeGreaterThan(0);
  });
});
