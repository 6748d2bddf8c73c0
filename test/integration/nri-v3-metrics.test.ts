import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RateState } from '../../src/adapters/nri/v3/rate-state.js';
import { buildV3Entities, type V3EntityOptions } from '../../src/adapters/nri/v3/v3-entities.js';
import type { V3Entity, V3MetricSet } from '../../src/adapters/nri/v3/v3-types.js';
import { PgBouncerConnector } from '../../src/collectors/pgbouncer/pgbouncer-connector.js';
import { PGBOUNCER_PROBES } from '../../src/collectors/probes/catalog-pgbouncer.js';
import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { pgLocks } from '../../src/collectors/probes/pg-locks.js';
import { pgSettings } from '../../src/collectors/probes/pg-settings.js';
import { pgStatAllIndexes } from '../../src/collectors/probes/pg-stat-all-indexes.js';
import { pgStatAllTables } from '../../src/collectors/probes/pg-stat-all-tables.js';
import { pgStatBgwriter } from '../../src/collectors/probes/pg-stat-bgwriter.js';
import { pgStatCheckpointer } from '../../src/collectors/probes/pg-stat-checkpointer.js';
import { pgStatDatabaseConflicts } from '../../src/collectors/probes/pg-stat-database-conflicts.js';
import { pgStatDatabase } from '../../src/collectors/probes/pg-stat-database.js';
import { pgStatIo } from '../../src/collectors/probes/pg-stat-io.js';
import { pgTableBloat } from '../../src/collectors/probes/pg-table-bloat.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import {
  appliesTo,
  NRI_V3_CATALOGUE,
  NRI_V3_INVENTORY_FIELDS,
  type CatalogueSet,
} from '../helpers/nri-v3-metric-catalogue.js';
import { PgBouncerServer, pgbouncerSkipReason } from '../helpers/pgbouncer-server.js';
import { runProbes } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const [bouncerDatabase = 'pgql_test_a'] = inject('testDatabases');

/** What nri-postgresql reads, as our probes. */
const PROBES: readonly ProbeCollector[] = [
  pgStatBgwriter,
  pgStatCheckpointer,
  pgStatIo,
  pgStatDatabase,
  pgStatDatabaseConflicts,
  pgSettings,
  pgLocks,
  pgStatAllTables,
  pgStatAllIndexes,
  pgTableBloat,
];

/** Configured host and port: names carry them as typed, never resolved. */
const HOST = 'db1.example';
const PORT = 5432;
const INSTANCE = `${HOST}:${PORT}`;
const TTL = 6 * 60_000;
const ALL: V3EntityOptions = { ignoreTables: [], metrics: true, inventory: true };

let dbName = '';
let dbUrl = '';
let versionNum = 0;
let major = 0;
/** Two collections 15 s apart (in rate time), with 30 inserts into shop.orders between. */
let first: V3Entity[] = [];
let second: V3Entity[] = [];
let firstBatch: UnifiedMetrics | undefined;
const T0 = Date.UTC(2030, 0, 1);

async function collect(): Promise<UnifiedMetrics> {
  const runs = await runProbes(pgUrl, PROBES, [dbName]);
  const now = new Date().toISOString();
  return {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: 'nri', host: HOST, port: PORT, labels: {} },
    server: { versionNum },
    metadata: {
      collectorVersion: 'test',
      startedAt: now,
      finishedAt: now,
      collectors: [...runs.values()].flatMap((r) => r.statuses),
    },
    ...emptyParts(),
    probes: [...runs.values()].flatMap((r) => r.samples),
  };
}

/** Polls until `sql` (one boolean `ok` column) holds: statistics are flushed with a delay. */
async function waitForStats(what: string, sql: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await queryOnce<{ ok: boolean }>(dbUrl, sql);
    if (row?.ok === true) return;
    if (Date.now() > deadline) throw new Error(`statistics never showed ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function entity(entities: readonly V3Entity[], type: string, name: string, schema?: string) {
  return entities.find(
    (e) =>
      e.entity.type === type &&
      e.entity.name === name &&
      (schema === undefined || e.entity.id_attributes.some((a) => a.Value === schema)),
  );
}

/** Which of the event type's sets this is: the one whose attributes it has. */
function setKind(set: V3MetricSet): { eventType: string; kind: CatalogueSet } {
  const eventType = String(set.event_type);
  const catalogue = NRI_V3_CATALOGUE[eventType];
  if (catalogue === undefined) throw new Error(`unknown event type ${eventType}`);
  const kind = catalogue.sets.find((s) => s.attributes.some((a) => a.name in set));
  if (kind === undefined) throw new Error(`no catalogue set matches ${JSON.stringify(set)}`);
  return { eventType, kind };
}

/**
 * Checks one set field by field against the catalogue: namespace first and in order, every
 * expected attribute present (unless optional or not on this version), no unknown name, the
 * right JSON type, whole numbers where the source counts.
 */
function checkSet(set: V3MetricSet, pgMajor: number, extraNamespace: readonly string[] = []) {
  const { eventType, kind } = setKind(set);
  const catalogue = NRI_V3_CATALOGUE[eventType]!;
  const namespace = [...catalogue.namespace, ...extraNamespace];
  const keys = Object.keys(set);
  expect(keys.slice(0, namespace.length + 1), eventType).toEqual(['event_type', ...namespace]);
  for (const name of namespace) expect(typeof set[name], name).toBe('string');
  const known = new Map(kind.attributes.map((a) => [a.name, a]));
  for (const key of keys.slice(namespace.length + 1)) {
    const attribute = known.get(key);
    expect(attribute, `${eventType} ${kind.label}: unknown attribute ${key}`).toBeDefined();
    expect(appliesTo(attribute!, pgMajor), `${key} on PG${pgMajor}`).toBe(true);
    expect(typeof set[key], key).toBe(attribute!.type);
    if (attribute!.type === 'number') expect(Number.isFinite(set[key]), key).toBe(true);
    if (attribute!.integer === true) expect(Number.isInteger(set[key]), key).toBe(true);
  }
  for (const attribute of kind.attributes) {
    if (attribute.optional === true || !appliesTo(attribute, pgMajor)) continue;
    expect(set, `${eventType} ${kind.label} lacks ${attribute.name}`).toHaveProperty([
      attribute.name,
    ]);
  }
  return kind.label;
}

/** The fields of a set that come from `rate` sources (of any set of its event type). */
function rateFields(set: V3MetricSet): [string, number][] {
  const sets = NRI_V3_CATALOGUE[String(set.event_type)]?.sets ?? [];
  const rates = new Set(
    sets
      .flatMap((s) => s.attributes)
      .filter((a) => a.source === 'rate')
      .map((a) => a.name),
  );
  return Object.entries(set).filter((e): e is [string, number] => rates.has(e[0]));
}

beforeAll(async () => {
  const [v] = await queryOnce<{ v: string }>(
    pgUrl,
    "SELECT current_setting('server_version_num') AS v",
  );
  versionNum = Number(v?.v);
  major = Math.floor(versionNum / 10_000);
  dbUrl = await freshDatabase(pgUrl, 'pgql_nri');
  dbName = new URL(dbUrl).pathname.slice(1);
  await queryOnce(
    dbUrl,
    `CREATE SCHEMA shop;
     CREATE SCHEMA audit;
     CREATE TABLE shop.orders (id serial PRIMARY KEY, customer int NOT NULL, note text);
     CREATE INDEX orders_customer_idx ON shop.orders (customer);
     CREATE TABLE shop.items (id int PRIMARY KEY, name text);
     CREATE TABLE shop.scratch (x int);
     CREATE TABLE audit.orders (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
     INSERT INTO shop.orders (customer, note) SELECT g % 10, 'order ' || g FROM generate_series(1, 500) g;
     INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, 50) g;
     INSERT INTO shop.scratch SELECT g FROM generate_series(1, 20) g;
     INSERT INTO audit.orders (id) SELECT g FROM generate_series(1, 100) g;
     DELETE FROM shop.orders WHERE id % 5 = 0;`,
  );
  // Separate statements: VACUUM cannot run in the multi-statement transaction above.
  await queryOnce(dbUrl, 'VACUUM shop.orders');
  await queryOnce(dbUrl, 'ANALYZE');
  await queryOnce(dbUrl, 'SELECT count(*) FROM shop.orders WHERE customer = 3');
  await waitForStats(
    'the setup',
    `SELECT n_live_tup = 400 AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AS ok
       FROM pg_stat_user_tables WHERE relid = 'shop.orders'::regclass`,
  );

  // A lock held in the database while the first collection runs.
  const holder = new pg.Client({ connectionString: dbUrl });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE shop.items IN SHARE MODE');
    firstBatch = await collect();
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
  const rates = new RateState(TTL);
  first = buildV3Entities(firstBatch, rates, ALL, T0);

  const [before] = await queryOnce<{ n: string }>(
    dbUrl,
    `SELECT n_tup_ins AS n FROM pg_stat_user_tables WHERE relid = 'shop.orders'::regclass`,
  );
  await queryOnce(
    dbUrl,
    `INSERT INTO shop.orders (customer, note) SELECT g, 'late ' || g FROM generate_series(1, 30) g`,
  );
  await waitForStats(
    'the inserts',
    `SELECT n_tup_ins >= ${Number(before?.n) + 30} AS ok
       FROM pg_stat_user_tables WHERE relid = 'shop.orders'::regclass`,
  );
  second = buildV3Entities(await collect(), rates, ALL, T0 + 15_000);
});

describe('nri v3 entities from real probe samples', () => {
  it('orders entities as nri does: instance, databases, tables, indexes', () => {
    const types = first.map((e) => e.entity.type);
    expect(types[0]).toBe('pg-instance');
    const order = ['pg-instance', 'pg-database', 'pg-table', 'pg-index'];
    const ranks = types.map((t) => order.indexOf(t));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const e of first) expect(e.events).toEqual([]);
  });

  it('names the instance host:port with no identity and an inventory of pg_settings', () => {
    const instance = first[0]!;
    expect(instance.entity).toEqual({ name: INSTANCE, type: 'pg-instance', id_attributes: [] });
    expect(instance.metrics).toHaveLength(1);
    const set = instance.metrics[0]!;
    expect(set).toMatchObject({
      event_type: 'PostgresqlInstanceSample',
      displayName: INSTANCE,
      entityName: `pg-instance:${INSTANCE}`,
    });
    checkSet(set, major);
    for (const [name, value] of rateFields(set)) expect(value, name).toBe(0);

    const [maxConnections] = firstBatch!.probes
      .filter((s) => s.probe === 'pg_settings')
      .flatMap((s) => s.rows)
      .filter((r) => r.name === 'max_connections');
    for (const field of NRI_V3_INVENTORY_FIELDS) {
      expect(instance.inventory[`max_connections/${field}`]).toEqual({
        value: maxConnections?.[field],
      });
    }
    const keys = Object.keys(instance.inventory);
    expect(keys.length % 3).toBe(0);
    expect(keys).toEqual([...keys].sort());
    for (const key of keys) {
      expect(key.length).toBeLessThanOrEqual(375);
      expect(key).toMatch(/\/(setting|boot_val|reset_val)$/);
      const item = instance.inventory[key]!;
      expect(Object.keys(item)).toEqual(['value']);
      expect(item.value === null || typeof item.value === 'string', key).toBe(true);
    }
  });

  it('gives the database sets A, B and locks, with the lock held counted', () => {
    const db = entity(first, 'pg-database', dbName);
    expect(db?.entity.id_attributes).toEqual([
      { Key: 'host', Value: HOST },
      { Key: 'port', Value: String(PORT) },
    ]);
    expect(db!.metrics.map((s) => checkSet(s, major))).toEqual(['A', 'B', 'locks']);
    for (const set of db!.metrics) {
      expect(set).toMatchObject({ displayName: dbName, entityName: `database:${dbName}` });
      for (const [name, value] of rateFields(set)) expect(value, name).toBe(0);
    }
    const maxConnections = firstBatch!.probes
      .filter((s) => s.probe === 'pg_settings')
      .flatMap((s) => s.rows)
      .find((r) => r.name === 'max_connections')?.setting;
    expect(db!.metrics[0]!['db.maxconnections']).toBe(Number(maxConnections));
    expect(db!.metrics[0]!['db.connections']).toBeGreaterThanOrEqual(1);
    expect(db!.metrics[2]!['db.locks.shareLock']).toBeGreaterThanOrEqual(1);
    // Only monitored databases: the probes ran on this one alone.
    expect(first.filter((e) => e.entity.type === 'pg-database')).toHaveLength(1);
  });

  it('gives each user table a table set and a bloat set, named and identified as nri does', () => {
    const tables = first.filter((e) => e.entity.type === 'pg-table');
    expect(tables.map((t) => `${t.metrics[0]?.schema}.${t.entity.name}`).sort()).toEqual([
      'audit.orders',
      'shop.items',
      'shop.orders',
      'shop.scratch',
    ]);
    for (const table of tables) {
      const schema = String(table.metrics[0]?.schema);
      expect(table.entity.id_attributes).toEqual([
        { Key: 'host', Value: HOST },
        { Key: 'pg-database', Value: dbName },
        { Key: 'pg-schema', Value: schema },
        { Key: 'port', Value: String(PORT) },
      ]);
      expect(table.metrics.map((s) => checkSet(s, major))).toEqual(['table', 'bloat']);
      for (const set of table.metrics) {
        expect(set).toMatchObject({
          displayName: table.entity.name,
          entityName: `table:${table.entity.name}`,
          database: dbName,
          schema,
        });
        for (const [name, value] of rateFields(set)) expect(value, name).toBe(0);
      }
    }
    const orders = entity(first, 'pg-table', 'orders', 'shop')!.metrics[0]!;
    const row = firstBatch!.probes
      .filter((s) => s.probe === 'pg_stat_all_tables')
      .flatMap((s) => s.rows)
      .find((r) => r.schemaname === 'shop' && r.relname === 'orders')!;
    expect(orders['table.totalSizeInBytes']).toBe(row.total_size_bytes);
    // Two indexes of at least one page each.
    expect(orders['table.indexSizeInBytes']).toBe(
      Number(row.total_size_bytes) - Number(row.table_size_bytes),
    );
    expect(orders['table.indexSizeInBytes']).toBeGreaterThanOrEqual(2 * 8192);
    expect(orders['table.liveRows']).toBe(400);
    // Vacuumed and analyzed in this test: epoch seconds, within the last hour.
    for (const field of ['table.lastVacuum', 'table.lastAnalyze']) {
      expect(Math.abs(Number(orders[field]) - Date.now() / 1000)).toBeLessThan(3600);
    }
    for (const field of ['table.indexScansPerSecond', 'table.indexToastBlocksReadPerSecond']) {
      expect(orders).toHaveProperty([field]);
    }
    // No indexes, no TOAST: those sources are NULL and the keys absent.
    const scratch = entity(first, 'pg-table', 'scratch')!.metrics[0]!;
    expect(scratch).not.toHaveProperty(['table.indexScansPerSecond']);
    expect(scratch).not.toHaveProperty(['table.indexToastBlocksReadPerSecond']);
    const bloat = entity(first, 'pg-table', 'orders', 'shop')!.metrics[1]!;
    expect(bloat['table.bloatRatio']).toBeGreaterThanOrEqual(0);
    expect(bloat['table.dataSizeInBytes']).toBeGreaterThan(0);
  });

  it('gives each index of a user table an index set; no system relations anywhere', () => {
    const indexes = first.filter((e) => e.entity.type === 'pg-index');
    expect(
      indexes.map((i) => `${i.metrics[0]?.schema}.${i.metrics[0]?.table}.${i.entity.name}`).sort(),
    ).toEqual([
      'audit.orders.orders_pkey',
      'shop.items.items_pkey',
      'shop.orders.orders_customer_idx',
      'shop.orders.orders_pkey',
    ]);
    for (const index of indexes) {
      const set = index.metrics[0]!;
      expect(index.metrics).toHaveLength(1);
      expect(checkSet(set, major)).toBe('index');
      expect(index.entity.id_attributes).toEqual([
        { Key: 'host', Value: HOST },
        { Key: 'pg-database', Value: dbName },
        { Key: 'pg-schema', Value: set.schema },
        { Key: 'pg-table', Value: set.table },
        { Key: 'port', Value: String(PORT) },
      ]);
      expect(set).toMatchObject({
        displayName: index.entity.name,
        entityName: `index:${index.entity.name}`,
        database: dbName,
      });
      expect(set['index.sizeInBytes']).toBeGreaterThanOrEqual(8192);
    }
    const schemas = first.flatMap((e) =>
      e.entity.id_attributes.filter((a) => a.Key === 'pg-schema'),
    );
    expect(schemas.filter((a) => /^(pg_|information_schema)/.test(a.Value))).toEqual([]);
  });

  it('computes rates on the second collection: inserts and commits per second', () => {
    const orders = entity(second, 'pg-table', 'orders', 'shop')!.metrics[0]!;
    expect(orders['table.rowsInsertedPerSecond']).toBe(30 / 15);
    expect(orders['table.liveRows']).toBe(430);
    const db = entity(second, 'pg-database', dbName)!;
    expect(db.metrics[0]!['db.commitsPerSecond']).toBeGreaterThan(0);
    expect(db.metrics[0]!['db.rowsInsertedPerSecond']).toBeGreaterThanOrEqual(30 / 15);
    // The same entities and sets as the first time, every rate a number now.
    expect(second.map((e) => `${e.entity.type}:${e.entity.name}`)).toEqual(
      first.map((e) => `${e.entity.type}:${e.entity.name}`),
    );
    for (const e of second) {
      for (const set of e.metrics) {
        checkSet(set, major);
        for (const [name, value] of rateFields(set)) {
          expect(value, `${e.entity.name} ${name}`).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('drops rates computed within the same second as the previous sample', () => {
    const rates = new RateState(TTL);
    buildV3Entities(firstBatch!, rates, ALL, T0 + 100);
    const again = buildV3Entities(firstBatch!, rates, ALL, T0 + 900);
    const orders = entity(again, 'pg-table', 'orders', 'shop')!.metrics[0]!;
    expect(orders).not.toHaveProperty(['table.rowsInsertedPerSecond']);
    expect(orders['table.liveRows']).toBe(400);
    for (const e of again) for (const set of e.metrics) expect(rateFields(set)).toEqual([]);
  });
});

describe('nri v3 options', () => {
  const build = (options: Partial<V3EntityOptions>) =>
    buildV3Entities(firstBatch!, new RateState(TTL), { ...ALL, ...options }, T0);
  const relations = (entities: V3Entity[], type: string) =>
    entities
      .filter((e) => e.entity.type === type)
      .map((e) => `${e.metrics[0]?.schema}.${e.entity.name}`)
      .sort();

  it('collects exactly the objects the COLLECTION_LIST object form lists', () => {
    const entities = build({
      collection: {
        [dbName]: { shop: { orders: ['orders_customer_idx'], items: [] } },
        other_db: { shop: { orders: ['orders_pkey'] } },
      },
      // Ignored with the object form, as nri ignores it.
      ignoreTables: ['orders'],
    });
    expect(relations(entities, 'pg-table')).toEqual(['shop.items', 'shop.orders']);
    expect(relations(entities, 'pg-index')).toEqual(['shop.orders_customer_idx']);
    expect(entity(entities, 'pg-database', dbName)).toBeDefined();
  });

  it('leaves out ignored tables, and their indexes, when every table is collected', () => {
    const entities = build({ ignoreTables: ['orders'] });
    expect(relations(entities, 'pg-table')).toEqual(['shop.items', 'shop.scratch']);
    expect(relations(entities, 'pg-index')).toEqual(['shop.items_pkey']);
  });

  it('obeys the METRICS and INVENTORY flags', () => {
    const inventoryOnly = build({ metrics: false, inventory: true });
    expect(inventoryOnly).toHaveLength(1);
    expect(inventoryOnly[0]?.entity.type).toBe('pg-instance');
    expect(inventoryOnly[0]?.metrics).toEqual([]);
    expect(Object.keys(inventoryOnly[0]!.inventory).length).toBeGreaterThan(100);

    const metricsOnly = build({ metrics: true, inventory: false });
    expect(metricsOnly.every((e) => Object.keys(e.inventory).length === 0)).toBe(true);
    expect(metricsOnly.map((e) => e.entity.name)).toEqual(first.map((e) => e.entity.name));

    const neither = build({ metrics: false, inventory: false });
    expect(neither.map((e) => e.entity.name)).toEqual(first.map((e) => e.entity.name));
    expect(Object.keys(neither[0]!.inventory).length).toBeGreaterThan(100);
  });

  it('adds cluster_name and service_name to every set after its namespace', () => {
    const entities = build({ clusterName: 'prod-eu', serviceName: 'billing' });
    for (const e of entities) {
      for (const set of e.metrics) {
        expect(set).toMatchObject({ cluster_name: 'prod-eu', service_name: 'billing' });
        checkSet(set, major, ['cluster_name', 'service_name']);
      }
    }
  });
});

describe('nri v3 PgBouncerSample from a real PgBouncer', () => {
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

  it('gives a pgbouncer entity per database with its stats and pool sets', async ({ skip }) => {
    if (bouncer === undefined) return skip(skipReason);
    const target = targetFor(bouncer.consoleUrl(), { type: 'pgbouncer', name: 'bouncer' });
    const connector = new PgBouncerConnector(target, silentLogger);
    const identity = { name: 'bouncer', host: target.host, port: target.port, labels: {} };
    const runner = new CollectionRunner({
      target: identity,
      connector,
      collectors: PGBOUNCER_PROBES,
      settings: () => ({ statementTimeoutMs: 5_000, deadlineMs: 10_000 }),
      collectorVersion: 'test',
      logger: silentLogger,
    });
    const workload = async (count: number) => {
      const client = new pg.Client({ connectionString: bouncer!.url(bouncerDatabase) });
      await client.connect();
      try {
        for (let i = 0; i < count; i += 1) await client.query('SELECT 1');
      } finally {
        await client.end();
      }
    };
    const names = PGBOUNCER_PROBES.map((p) => p.name);
    try {
      await workload(5);
      const rates = new RateState(TTL);
      const before = buildV3Entities(
        await runner.run(names, new AbortController().signal),
        rates,
        ALL,
        T0,
      );
      await workload(30);
      // SHOW STATS totals count every query as it completes.
      const after = buildV3Entities(
        await runner.run(names, new AbortController().signal),
        rates,
        ALL,
        T0 + 15_000,
      );

      for (const entities of [before, after]) {
        expect(entities.every((e) => e.entity.type === 'pgbouncer')).toBe(true);
        for (const e of entities) {
          expect(e.entity.id_attributes).toEqual([
            { Key: 'host', Value: target.host },
            { Key: 'port', Value: String(target.port) },
          ]);
          expect(e.inventory).toEqual({});
          for (const set of e.metrics) {
            expect(set).toMatchObject({
              event_type: 'PgBouncerSample',
              displayName: e.entity.name,
              entityName: `pgbouncer:${e.entity.name}`,
              host: target.host,
            });
            checkSet(set, 0);
          }
        }
      }
      const app = entity(before, 'pgbouncer', bouncerDatabase)!;
      const labels = app.metrics.map((s) => setKind(s).kind.label);
      expect(labels[0]).toBe('stats');
      expect(labels.filter((l) => l === 'stats')).toHaveLength(1);
      expect(labels).toContain('pools');
      const pool = app.metrics.find((s) => setKind(s).kind.label === 'pools')!;
      expect(typeof pool['pgbouncer.pools.user']).toBe('string');
      for (const [name, value] of rateFields(app.metrics[0]!)) expect(value, name).toBe(0);

      const stats = entity(after, 'pgbouncer', bouncerDatabase)!.metrics[0]!;
      expect(stats['pgbouncer.stats.queriesPerSecond']).toBeGreaterThan(0);
      expect(stats['pgbouncer.stats.bytesInPerSecond']).toBeGreaterThan(0);
    } finally {
      await connector.close();
    }
  });
});
