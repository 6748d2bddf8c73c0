import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import { PgBouncerConnector } from '../../src/collectors/pgbouncer/pgbouncer-connector.js';
import { PGBOUNCER_PROBES } from '../../src/collectors/probes/catalog-pgbouncer.js';
import { buildV4Documents } from '../../src/adapters/nri/v4/v4-documents.js';
import {
  V4_INTEGRATION_NAME,
  V4_MAX_ITEMS_PER_DOCUMENT,
  type V4Dataset,
  type V4Document,
  type V4Event,
  type V4Options,
} from '../../src/adapters/nri/v4/v4-types.js';
import { planChangeEvent } from '../../src/adapters/nri/v4/v4-plan-events.js';
import { formatMs } from '../../src/adapters/nri/v4/v4-event-values.js';
import { CollectionRunner } from '../../src/core/collection-runner.js';
import { deriveMetricPoints } from '../../src/core/semantic-metrics/catalogue.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  emptyParts,
  UNIFIED_METRICS_SCHEMA_VERSION,
  type UnifiedMetrics,
} from '../../src/core/model/unified-metrics.js';
import { freshDatabase } from '../helpers/fresh-database.js';
import { v4DocumentProblems } from '../helpers/nri-v4-structure.js';
import { PgBouncerServer, pgbouncerSkipReason } from '../helpers/pgbouncer-server.js';
import { runProbes } from '../helpers/probe-run.js';
import { QueryPerformanceHarness, testSettings } from '../helpers/query-performance-harness.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');

const OPTIONS: V4Options = {
  integrationVersion: '9.8.7',
  intervalMs: 15_000,
  metrics: true,
  inventory: true,
  events: true,
  clusterName: 'prod-eu',
  serviceName: 'billing',
};
const NOW = 1_767_225_600_000;

/** The PostgreSQL probes (PgBouncer ones never run on a PostgreSQL target). */
const PG_PROBES = BUILTIN_PROBES.filter((p) => !p.name.startsWith('pgbouncer_'));

let dbUrl: string;
let db: string;
let batch: UnifiedMetrics;
let documents: V4Document[];
let host: string;
let port: number;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: dbUrl });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Query-performance parts from the real collectors on a fresh database: two slow-query
 * intervals, plans before and after an index (a new_plan change), and a lock-wait chain the
 * sampler saw (blocking sessions, wait events, active sessions).
 */
async function queryPerformanceParts(): Promise<UnifiedMetrics[]> {
  const c = await client();
  await c.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    CREATE TABLE big (a int, b text);
    INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
    ANALYZE big;
    CREATE TABLE locks_t (id int PRIMARY KEY, v int);
    INSERT INTO locks_t VALUES (1, 0);`);
  const lookup = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await c.query('SELECT b FROM big WHERE a = $1', [i * 7 + 1]);
  };
  const h = new QueryPerformanceHarness(dbUrl, [db], testSettings(), 'nri-v4');
  try {
    await h.collect('slow_queries');
    await lookup(6);
    await c.query('SELECT pg_sleep(0.05)');
    await h.collect('slow_queries');
    const seqPlans = await h.collect('execution_plans');
    await c.query('CREATE INDEX big_a ON big (a); ANALYZE big');
    await lookup(6);
    const slow = await h.collect('slow_queries');
    const indexPlans = await h.collect('execution_plans');

    const root = await client();
    const waiter = await client();
    await root.query('BEGIN');
    await root.query('UPDATE locks_t SET v = 1 WHERE id = 1');
    const waiting = waiter.query('UPDATE locks_t SET v = 2 WHERE id = 1').catch(() => undefined);
    await until('the waiter to block', async () => {
      const r = await c.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1",
        [db],
      );
      return r.rowCount === 1;
    });
    await h.tick(2);
    const sessions = await h.collect('blocking_sessions', 'wait_events', 'active_session_history');
    await root.query('ROLLBACK');
    await waiting;
    return [seqPlans, slow, indexPlans, sessions];
  } finally {
    await h.close();
  }
}

/** One batch: every PostgreSQL probe, plus the query-performance parts. */
function merged(probes: UnifiedMetrics, parts: readonly UnifiedMetrics[]): UnifiedMetrics {
  const all = [probes, ...parts];
  return {
    ...probes,
    metadata: { ...probes.metadata, collectors: all.flatMap((b) => b.metadata.collectors) },
    slowQueries: parts.flatMap((b) => b.slowQueries),
    individualQueries: parts.flatMap((b) => b.individualQueries),
    executionPlans: parts.flatMap((b) => b.executionPlans),
    planChanges: parts.flatMap((b) => b.planChanges),
    blockingSessions: parts.flatMap((b) => b.blockingSessions),
    waitEvents: parts.flatMap((b) => b.waitEvents),
    activeSessions: parts.flatMap((b) => b.activeSessions),
    // Probe rows of the slow_queries collector (its interval row) ride along too.
    probes: [...probes.probes, ...parts.flatMap((b) => b.probes)],
  };
}

beforeAll(async () => {
  dbUrl = await freshDatabase(pgUrl, 'pgql_nri4');
  const url = new URL(dbUrl);
  db = url.pathname.slice(1);
  host = url.hostname;
  port = Number(url.port || 5432);
  const parts = await queryPerformanceParts();
  const runs = await runProbes(dbUrl, PG_PROBES, [db]);
  const now = new Date().toISOString();
  const probes: UnifiedMetrics = {
    schemaVersion: UNIFIED_METRICS_SCHEMA_VERSION,
    target: { name: 'billing-db', host, port, labels: { env: 'test' } },
    server: parts[0]?.server ?? {},
    metadata: {
      collectorVersion: 'test',
      startedAt: now,
      finishedAt: now,
      collectors: [...runs.values()].flatMap((r) => r.statuses),
    },
    ...emptyParts(),
    probes: [...runs.values()].flatMap((r) => r.samples),
  };
  batch = merged(probes, parts);
  documents = buildV4Documents(batch, OPTIONS, NOW);
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
});

function datasets(docs: readonly V4Document[] = documents): V4Dataset[] {
  return docs.flatMap((d) => d.data);
}

function entity(name: string): V4Dataset | undefined {
  return datasets().find((d) => d.entity.name === name);
}

function eventsNamed(name: string): V4Event[] {
  return datasets()
    .flatMap((d) => d.events)
    .filter((e) => e.attributes['event.name'] === name);
}

describe('protocol 4 documents of a real batch', () => {
  it('are well formed', () => {
    expect(documents.length).toBeGreaterThan(0);
    for (const doc of documents) {
      expect(v4DocumentProblems(doc, { name: V4_INTEGRATION_NAME, version: '9.8.7' })).toEqual([]);
    }
  });

  it('has the batch’s query-performance parts to show', () => {
    expect(batch.slowQueries.length).toBeGreaterThan(0);
    expect(batch.executionPlans.length).toBeGreaterThan(1);
    expect(batch.planChanges.some((c) => c.kind === 'new_plan')).toBe(true);
    expect(batch.blockingSessions.length).toBeGreaterThan(0);
    expect(batch.waitEvents.length).toBeGreaterThan(0);
  });

  it('names entities after the server and routes metrics to them', () => {
    const instance = datasets()[0];
    const server = `${host}:${port}`;
    expect(instance?.entity).toMatchObject({
      name: server,
      type: 'pg-instance',
      displayName: 'billing-db',
      metadata: { host, port, 'label.env': 'test' },
    });
    expect(instance?.common).toEqual({
      timestamp: NOW,
      'interval.ms': 15_000,
      attributes: { cluster_name: 'prod-eu', service_name: 'billing' },
    });
    const metric = (d: V4Dataset | undefined, name: string) =>
      d?.metrics.find((m) => m.name === name);
    expect(metric(instance, 'postgresql.connection.max')).toMatchObject({ type: 'gauge' });

    const database = entity(`${server}/${db}`);
    expect(database?.entity).toMatchObject({
      type: 'pg-database',
      displayName: db,
      metadata: { database: db },
    });
    expect(metric(database, 'postgresql.commits')).toMatchObject({
      type: 'cumulative-count',
      attributes: { 'db.namespace': db },
    });
    expect(metric(database, 'postgresql.db_size')?.type).toBe('gauge');

    const table = entity(`${server}/${db}/public.big`);
    expect(table?.entity).toMatchObject({ type: 'pg-table', displayName: 'public.big' });
    expect(metric(table, 'postgresql.rows')?.attributes).toMatchObject({
      'db.namespace': `${db}|public`,
      'db.collection.name': 'big',
    });
    const index = entity(`${server}/${db}/public.big/big_a`);
    expect(index?.entity).toMatchObject({ type: 'pg-index', displayName: 'public.big_a' });
    expect(metric(index, 'postgresql.index.size')?.value).toBeGreaterThan(0);

    // Interval increments are counts over their own interval.
    const top = metric(database, 'postgresql.top_query.calls');
    expect(top?.type).toBe('count');
    expect(top?.['interval.ms']).toBeGreaterThan(0);
    for (const d of datasets()) expect(d.ignore_entity).toBe(false);
  });

  it('puts pg_settings into the instance’s inventory', () => {
    const inventory = datasets()[0]?.inventory ?? {};
    const setting = batch.probes
      .find((s) => s.probe === 'pg_settings')
      ?.rows.find((r) => r.name === 'max_connections');
    expect(inventory['max_connections/setting']).toEqual({ value: String(setting?.setting) });
    expect(inventory['max_connections/boot_val']).toEqual({ value: String(setting?.boot_val) });
    expect(inventory['max_connections/reset_val']).toEqual({ value: String(setting?.reset_val) });
    for (const d of datasets().slice(1)) expect(d.inventory).toEqual({});
  });

  it('turns query performance into events on the database entity', () => {
    const database = entity(`${host}:${port}/${db}`);
    expect(database?.events.length).toBeGreaterThan(0);
    for (const e of datasets().flatMap((d) => d.events)) {
      expect(e.category).toBe('postgresql');
      expect(e.attributes['db.system.name']).toBe('postgresql');
      for (const v of Object.values(e.attributes)) {
        if (typeof v === 'string') expect(v.length).toBeLessThanOrEqual(4095);
      }
    }
    const top = eventsNamed('db.server.top_query').find((e) =>
      String(e.attributes['db.query.text']).includes('FROM big WHERE a'),
    );
    const slow = batch.slowQueries.find(
      (q) => q.queryId === top?.attributes['postgresql.query_id'],
    );
    expect(top?.summary).toBe(
      `Top query ${slow?.queryId} in ${db}: ${slow?.calls} call${slow?.calls === 1 ? '' : 's'}, ` +
        `${formatMs(slow?.meanExecTimeMs)} per call, ${formatMs(slow?.totalExecTimeMs)} in ` +
        formatMs((slow?.intervalSeconds ?? 0) * 1000),
    );
    expect(top?.attributes).toMatchObject({
      'db.namespace': db,
      'postgresql.calls': slow?.calls,
      'postgresql.total_exec_time': slow?.totalExecTimeMs,
    });

    const plans = eventsNamed('postgresql.execution_plan');
    expect(plans).toHaveLength(batch.executionPlans.length);
    const indexPlan = plans.find((e) =>
      String(e.attributes['postgresql.plan.nodes']).includes('big_a'),
    );
    expect(indexPlan?.attributes['postgresql.plan.hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(indexPlan?.attributes['db.query.text']).toMatch(/FROM big WHERE a/);
    expect(indexPlan?.summary).toMatch(/^Execution plan [0-9a-f]{16} for query/);

    const change = eventsNamed('postgresql.plan_change').find(
      (e) => e.attributes['postgresql.plan_change.kind'] === 'new_plan',
    );
    expect(change?.summary).toMatch(
      /^New plan for query -?\d+ in \w+: [0-9a-f]{16} → [0-9a-f]{16}$/,
    );

    // Two sampler readings of one chain: one event.
    const chains = eventsNamed('postgresql.blocking_chain');
    expect(chains).toHaveLength(1);
    expect(chains[0]?.summary).toMatch(
      /^Blocking chain in \w+: pid \d+ \(idle in transaction\) blocks 1 session, depth 1/,
    );
    expect(chains[0]?.attributes).toMatchObject({
      'postgresql.blocking.blocked_count': 1,
      'postgresql.blocking.max_depth': 1,
      'db.namespace': db,
    });
    const lockWait = eventsNamed('postgresql.wait_event').find(
      (e) => e.attributes['postgresql.wait_event_type'] === 'Lock',
    );
    expect(lockWait?.summary).toMatch(/^Wait Lock:\w+ in \w+: .* over \d+ samples?$/);
  });

  it('says a suspected regression in words', () => {
    const { event } = planChangeEvent({
      queryId: '123',
      databaseName: 'db',
      previousPlanHash: 'aaaaaaaaaaaaaaaa',
      newPlanHash: 'bbbbbbbbbbbbbbbb',
      kind: 'suspected_regression',
      previousMeanMs: 4.2,
      newMeanMs: 18,
      generic: true,
      detectedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(event.summary).toBe(
      'Suspected plan regression for query 123 in db: 4.2 ms → 18.0 ms per call',
    );
  });

  it('leaves out what the options turn off', () => {
    const none = buildV4Documents(
      batch,
      { ...OPTIONS, metrics: false, inventory: false, events: false },
      NOW,
    );
    expect(none).toHaveLength(1);
    expect(datasets(none).map((d) => d.entity.type)).toEqual(['pg-instance']);
    expect(datasets(none)[0]).toMatchObject({ metrics: [], inventory: {}, events: [] });
    const bare = buildV4Documents(
      batch,
      { ...OPTIONS, clusterName: undefined, serviceName: undefined },
      NOW,
    );
    expect(datasets(bare)[0]?.common.attributes).toEqual({});
  });

  it('splits a batch with many tables into documents of bounded size', () => {
    // The real table row, repeated under 400 names: enough series to need several lines.
    const tables = batch.probes.find((s) => s.probe === 'pg_stat_all_tables' && s.database === db);
    const big = tables?.rows.find((r) => r.relname === 'big');
    expect(big).toBeDefined();
    const many: UnifiedMetrics = {
      ...batch,
      probes: [
        ...batch.probes.filter((s) => s !== tables),
        { ...tables!, rows: Array.from({ length: 400 }, (_, i) => ({ ...big, relname: `t${i}` })) },
      ],
    };
    const docs = buildV4Documents(many, OPTIONS, NOW);
    expect(docs.length).toBeGreaterThan(1);
    for (const doc of docs) {
      expect(v4DocumentProblems(doc)).toEqual([]);
      const items = doc.data.reduce((n, d) => n + d.metrics.length + d.events.length, 0);
      expect(items).toBeLessThanOrEqual(V4_MAX_ITEMS_PER_DOCUMENT);
    }
    const whole = docs.flatMap((d) => d.data);
    const metrics = whole.reduce((n, d) => n + d.metrics.length, 0);
    expect(metrics).toBeGreaterThan(V4_MAX_ITEMS_PER_DOCUMENT);
    // Nothing lost in the split: every point of the batch is in one of the lines.
    expect(metrics).toBe(deriveMetricPoints(many).length);
    const tableNames = new Set(
      whole.filter((d) => d.entity.type === 'pg-table').map((d) => d.entity.displayName),
    );
    for (let i = 0; i < 400; i++) expect(tableNames.has(`public.t${i}`)).toBe(true);
  });
});

describe('protocol 4 documents of a PgBouncer target', () => {
  let bouncer: PgBouncerServer | undefined;
  let skipReason: string | undefined;

  beforeAll(async () => {
    skipReason = pgbouncerSkipReason();
    if (skipReason === undefined) bouncer = await PgBouncerServer.start(pgUrl);
  });

  afterAll(async () => {
    await bouncer?.stop();
  });

  it('reports the pooler as one pgbouncer entity with pgbouncer.* metrics', async ({ skip }) => {
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
      const c = new pg.Client({ connectionString: bouncer.url('postgres') });
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      const pooled = await runner.run(
        PGBOUNCER_PROBES.map((p) => p.name),
        new AbortController().signal,
      );
      const docs = buildV4Documents(pooled, OPTIONS, NOW);
      for (const doc of docs) expect(v4DocumentProblems(doc)).toEqual([]);
      const all = datasets(docs);
      expect(all.map((d) => d.entity.type)).toEqual(['pgbouncer']);
      expect(all[0]?.entity.name).toBe(`${target.host}:${target.port}`);
      const names = new Set(all[0]?.metrics.map((m) => m.name));
      for (const name of [
        'pgbouncer.queries',
        'pgbouncer.network.io',
        'pgbouncer.client.connection.count',
        'pgbouncer.server.connection.count',
      ]) {
        expect(names.has(name), name).toBe(true);
      }
      expect(all[0]?.metrics.every((m) => m.name.startsWith('pgbouncer.'))).toBe(true);
      expect(all[0]?.events).toEqual([]);
    } finally {
      await connector.close();
    }
  });
});
