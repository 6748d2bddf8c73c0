import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildV3QpmGroups } from '../../src/adapters/nri/v3/v3-qpm-sets.js';
import type { V3MetricSet, V3QpmGroup } from '../../src/adapters/nri/v3/v3-types.js';
import type { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import type { IndividualQuery } from '../../src/core/model/individual-query.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import {
  NRI_V3_QPM_CATALOGUE,
  QPM_INDIVIDUAL_PER_SLOW_QUERY,
  QPM_TEXT_LIMIT,
  qpmEventType,
  type QpmAttribute,
} from '../helpers/nri-v3-qpm-catalogue.js';
import { privateServer, QueryPerformanceHarness } from '../helpers/query-performance-harness.js';

const DB = 'qpm';
const ALL = { countThreshold: 30, responseTimeThresholdMs: 1 };
/** The statement whose executions, plan and waits the test follows. */
const JOIN_SQL = `SELECT c.name, o.note, pg_sleep($1::float8)
  FROM qpm_orders o JOIN qpm_customers c ON c.id = o.customer WHERE o.id = $2`;

let server: EmbeddedServer;
let url: string;
let superuser: () => Promise<pg.Client>;
let major: number;
const clients: pg.Client[] = [];
/** The batch of every QPM part, collected once from real sessions. */
let batch: UnifiedMetrics;
let pids: { sleepers: number[]; root: number; waiter: number };

async function client(): Promise<pg.Client> {
  const c = await superuser();
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function pidOf(c: pg.Client): Promise<number> {
  return (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Slow statements, a plan for the followed one, then two executions of it sleeping while a
 * third session waits on a lock, sampled twice: one batch with all five parts.
 */
async function collectBatch(h: QueryPerformanceHarness): Promise<UnifiedMetrics> {
  const admin = await client();
  await admin.query(`CREATE TABLE qpm_customers (id int PRIMARY KEY, name text);
    INSERT INTO qpm_customers SELECT g, 'customer ' || g FROM generate_series(1, 200) g;
    CREATE TABLE qpm_orders (id int PRIMARY KEY, customer int REFERENCES qpm_customers, note text);
    INSERT INTO qpm_orders SELECT g, 1 + g % 200, md5(g::text) FROM generate_series(1, 5000) g;
    CREATE INDEX qpm_orders_customer ON qpm_orders (customer);
    CREATE TABLE qpm_locks (id int PRIMARY KEY, v int);
    INSERT INTO qpm_locks VALUES (1, 0);
    ANALYZE`);
  await h.collect('slow_queries');
  for (let i = 0; i < 3; i++) await admin.query(JOIN_SQL, [0.01, i + 1]);
  for (let i = 0; i < 5; i++) {
    await admin.query('SELECT count(*) FROM qpm_orders WHERE customer = $1', [i]);
    await admin.query('SELECT note FROM qpm_orders WHERE id = $1', [i]);
  }
  await admin.query('SELECT sum(length(note)) FROM qpm_orders');
  await h.collect('slow_queries');
  // The plan is known before the executions, so they name it.
  await h.collect('execution_plans');

  const sleepers = [await client(), await client()];
  const root = await client();
  const waiter = await client();
  pids = {
    sleepers: await Promise.all(sleepers.map(pidOf)),
    root: await pidOf(root),
    waiter: await pidOf(waiter),
  };
  const sleeping = sleepers.map((c, i) => c.query(JOIN_SQL, [1.2, 10 + i]));
  await root.query('BEGIN');
  await root.query('UPDATE qpm_locks SET v = 1 WHERE id = 1');
  const waiting = waiter.query('UPDATE qpm_locks SET v = 2 WHERE id = 1');
  await until('two sleepers and a lock waiter', async () => {
    const r = await admin.query<{ sleep: string; lock: string }>(
      `SELECT count(*) FILTER (WHERE wait_event = 'PgSleep') AS sleep,
              count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock
         FROM pg_stat_activity WHERE datname = $1`,
      [DB],
    );
    return Number(r.rows[0]?.sleep) === 2 && Number(r.rows[0]?.lock) === 1;
  });
  await h.tick(2);
  await root.query('ROLLBACK');
  await Promise.all([...sleeping, waiting]);
  return h.collect('slow_queries', 'wait_events', 'blocking_sessions', 'execution_plans');
}

beforeAll(async () => {
  ({ server, url, superuser } = await privateServer(DB));
  major = server.major;
  const h = new QueryPerformanceHarness(url, [DB], undefined, 'qpm');
  try {
    batch = await collectBatch(h);
  } finally {
    await h.close();
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server?.stop();
});

const NRI_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** RFC 3339 in UTC as Go's RFC3339Nano prints it: no trailing zeros in the fraction. */
const GO_RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?Z$/;

function codePoints(value: string): number {
  return [...value].length;
}

/** Every way `set` breaks the catalogue's entry for its event type. */
function violations(set: V3MetricSet): string[] {
  const entry = qpmEventType(String(set.event_type));
  if (entry === undefined) return [`unknown event_type ${String(set.event_type)}`];
  const problems: string[] = [];
  const keys = Object.keys(set);
  if (keys[0] !== 'event_type') problems.push('event_type is not the first key');
  const names = entry.attributes.map((a) => a.name);
  const present = keys.slice(1);
  for (const key of present) {
    if (!names.includes(key)) problems.push(`extra attribute ${key}`);
  }
  const order = present.map((k) => names.indexOf(k));
  if (order.some((v, i) => i > 0 && v < order[i - 1]!)) {
    problems.push(`attributes out of catalogue order: ${present.join(',')}`);
  }
  for (const attr of entry.attributes) {
    const value = set[attr.name];
    if (value === undefined) {
      if (attr.required && attr.mayBeAbsent === undefined) problems.push(`missing ${attr.name}`);
      continue;
    }
    problems.push(...valueViolations(attr, value));
  }
  return problems;
}

function valueViolations(attr: QpmAttribute, value: string | number): string[] {
  const where = `${attr.name}=${JSON.stringify(value).slice(0, 80)}`;
  const problems: string[] = [];
  if (attr.type === 'string') {
    if (typeof value !== 'string') return [`${where}: not a string`];
    if (codePoints(value) > QPM_TEXT_LIMIT) problems.push(`${attr.name}: longer than 4095`);
    if (attr.format !== undefined && Number.isNaN(Date.parse(value))) {
      problems.push(`${where}: not a time`);
    }
    if (attr.format === 'nri-timestamp' && !NRI_TIMESTAMP.test(value)) {
      problems.push(`${where}: not nri's collection_timestamp format`);
    }
    if (attr.format === 'date-time' && !GO_RFC3339_NANO.test(value)) {
      problems.push(`${where}: not RFC3339Nano`);
    }
  } else {
    if (typeof value !== 'number' || !Number.isFinite(value)) return [`${where}: not a number`];
    if (attr.type === 'integer' && !Number.isInteger(value)) problems.push(`${where}: fraction`);
    if (attr.minimum !== undefined && value < attr.minimum) problems.push(`${where}: < minimum`);
  }
  if (attr.values !== undefined && !attr.values.includes(value)) {
    problems.push(`${where}: not one of ${attr.values.join('|')}`);
  }
  return problems;
}

function setsOf(groups: V3QpmGroup[], eventType: string): V3MetricSet[] {
  return groups.find((g) => g.eventType === eventType)?.sets ?? [];
}

describe('PostgreSQL QPM sets from real collectors, against nri-postgresql catalogue', () => {
  it('publishes the event types in nri order, each set exactly as the catalogue allows', () => {
    const groups = buildV3QpmGroups(batch, ALL);
    const order = NRI_V3_QPM_CATALOGUE.map((e) => e.eventType);
    const expected =
      major >= 14
        ? order
        : // No query ids in pg_stat_activity before 14: executions cannot be tied to statements.
          order.filter((t) => t !== 'PostgresIndividualQueries');
    expect(groups.map((g) => g.eventType)).toEqual(expected);
    for (const group of groups) {
      expect(group.sets.length).toBeGreaterThan(0);
      for (const set of group.sets) {
        expect(set.event_type).toBe(group.eventType);
        expect(violations(set), JSON.stringify(set)).toEqual([]);
        const entry = qpmEventType(group.eventType)!;
        for (const name of entry.schemaOnly) expect(set).not.toHaveProperty(name);
        expect(set).not.toHaveProperty('displayName');
        expect(set).not.toHaveProperty('entityName');
      }
    }
  });

  it('maps slow queries from the interval ranking, values as nri types them', () => {
    const sets = setsOf(buildV3QpmGroups(batch, ALL), 'PostgresSlowQueries');
    expect(sets).toHaveLength(Math.min(30, batch.slowQueries.length));
    sets.forEach((set, i) => {
      const q = batch.slowQueries[i]!;
      expect(set).toMatchObject({
        query_id: q.queryId,
        database_name: DB,
        execution_count: q.calls,
        avg_elapsed_time_ms: Math.round(q.meanExecTimeMs * 1000) / 1000,
        avg_disk_reads: Math.trunc(q.avgDiskReads),
        avg_disk_writes: Math.trunc(q.avgDiskWrites),
        statement_type: q.statementType,
        collection_timestamp: `${q.collectedAt.slice(0, 19)}Z`,
      });
      if (q.schemaName === undefined) expect(set).not.toHaveProperty('schema_name');
      else expect(set.schema_name).toBe(q.schemaName);
    });
    const join = sets.find((s) => String(s.query_text).includes('qpm_customers'));
    expect(join?.statement_type).toBe('SELECT');
    // The two 1.2 s executions; before 16 the plan collector's EXPLAIN EXECUTE of the same
    // statement may count as one more (fast) call in the interval.
    expect(join?.execution_count).toBeGreaterThanOrEqual(2);
    expect(Number(join?.avg_elapsed_time_ms) * Number(join?.execution_count)).toBeGreaterThan(
      2_300,
    );
    // The collector's session schema, as nri reports it.
    expect(join?.schema_name).toBe('public');
  });

  it('reports waits largest first, with the statement where the server names it', () => {
    const sets = setsOf(buildV3QpmGroups(batch, ALL), 'PostgresWaitEvents');
    const totals = sets.map((s) => Number(s.total_wait_time_ms));
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
    const sleep = sets.find((s) => s.wait_event_name === 'Timeout:PgSleep');
    expect(sleep).toMatchObject({ wait_category: 'Other', database_name: DB });
    const lock = sets.find((s) => String(s.wait_event_name).startsWith('Lock:'));
    expect(lock?.wait_category).toBe('Locks');
    for (const set of sets) {
      // A text only ever comes with its query id.
      if (set.query_id === undefined) expect(set).not.toHaveProperty('query_text');
    }
    if (major >= 14) {
      expect(sleep?.query_id).toMatch(/^-?\d+$/);
      expect(sleep?.query_text).toMatch(/pg_sleep/);
    } else {
      expect(sets.every((s) => s.query_id === undefined)).toBe(true);
    }
  });

  it('reports each blocking edge once, oldest blocked statement first', () => {
    const sets = setsOf(buildV3QpmGroups(batch, ALL), 'PostgresBlockingSessions');
    const edge = sets.find((s) => s.blocked_pid === pids.waiter);
    expect(edge).toMatchObject({
      blocking_pid: pids.root,
      database_name: DB,
      blocked_query: expect.stringMatching(/UPDATE qpm_locks/) as unknown,
      blocking_query: expect.stringMatching(/UPDATE qpm_locks/) as unknown,
    });
    const model = batch.blockingSessions.find((e) => e.blockedPid === pids.waiter)!;
    expect(Date.parse(String(edge?.blocked_query_start))).toBe(
      Date.parse(model.blockedQueryStart!),
    );
    expect(Date.parse(String(edge?.blocking_query_start))).toBe(
      Date.parse(model.blockingQueryStart!),
    );
    if (major >= 14) expect(edge?.blocked_query_id).toBe(model.blockedQueryId);
    else expect(edge).not.toHaveProperty('blocked_query_id');
    const keys = sets.map((s) => `${s.blocked_pid}/${s.blocking_pid}/${s.blocked_query_start}`);
    expect(new Set(keys).size).toBe(keys.length);
    const starts = sets.map((s) => Date.parse(String(s.blocked_query_start)));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('reports executions of reported slow queries with their text, mean and plan', ({ skip }) => {
    if (major < 14) return skip('pg_stat_activity has no query_id before PostgreSQL 14');
    const groups = buildV3QpmGroups(batch, ALL);
    const slow = setsOf(groups, 'PostgresSlowQueries');
    const plans = setsOf(groups, 'PostgresExecutionPlanMetrics');
    const sets = setsOf(groups, 'PostgresIndividualQueries');
    const join = slow.find((s) => String(s.query_text).includes('qpm_customers'))!;
    const executions = sets.filter((s) => s.query_id === join.query_id);
    // The two sleeping sessions, slowest first.
    expect(executions).toHaveLength(2);
    const times = executions.map((s) => Number(s.exec_time_ms));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const set of executions) {
      expect(set).toMatchObject({
        query_text: join.query_text,
        database_name: DB,
        avg_exec_time_ms: join.avg_elapsed_time_ms,
      });
      expect(set).not.toHaveProperty('cpu_time_ms');
      // A real plan hash, the one the plan sets of the statement carry.
      expect(set.plan_id).toMatch(/^[0-9a-f]{16}$/);
      expect(plans.some((p) => p.query_id === join.query_id && p.plan_id === set.plan_id)).toBe(
        true,
      );
    }
    const reported = new Set(slow.map((s) => s.query_id));
    for (const set of sets) {
      expect(reported.has(set.query_id)).toBe(true);
      expect(set).toHaveProperty('exec_time_ms');
    }

    // Only statements whose interval mean is above the threshold.
    const mean = Number(join.avg_elapsed_time_ms);
    const at = buildV3QpmGroups(batch, { countThreshold: 30, responseTimeThresholdMs: mean });
    expect(setsOf(at, 'PostgresIndividualQueries').some((s) => s.query_id === join.query_id)).toBe(
      false,
    );
    const below = buildV3QpmGroups(batch, {
      countThreshold: 30,
      responseTimeThresholdMs: mean - 1,
    });
    expect(
      setsOf(below, 'PostgresIndividualQueries').filter((s) => s.query_id === join.query_id),
    ).toHaveLength(2);
    const none = buildV3QpmGroups(batch, { countThreshold: 30, responseTimeThresholdMs: 1e9 });
    expect(none.map((g) => g.eventType)).not.toContain('PostgresIndividualQueries');
  });

  it('writes every plan node in pre-order with consecutive level ids', () => {
    const sets = setsOf(buildV3QpmGroups(batch, ALL), 'PostgresExecutionPlanMetrics');
    const byPlan = new Map<string, V3MetricSet[]>();
    for (const set of sets) {
      const key = `${set.query_id}/${set.plan_id}`;
      byPlan.set(key, [...(byPlan.get(key) ?? []), set]);
    }
    // Each plan's nodes are contiguous: a plan is never interleaved with another.
    const firstKeys = sets.map((s) => `${s.query_id}/${s.plan_id}`);
    const runs = firstKeys.filter((k, i) => i === 0 || firstKeys[i - 1] !== k);
    expect(runs).toHaveLength(byPlan.size);
    for (const [key, nodes] of byPlan) {
      expect(nodes.map((n) => n.level_id)).toEqual(nodes.map((_, i) => i));
      const plan = batch.executionPlans.find((p) => `${p.queryId}/${p.planId}` === key)!;
      expect(plan.databaseName).toBe(nodes[0]?.database_name);
      expect(nodes.map((n) => n.node_type)).toEqual(plan.nodes.map((n) => n.nodeType));
      expect(nodes.map((n) => n.relation_name)).toEqual(
        plan.nodes.map((n) => n.relationName ?? ''),
      );
      expect(nodes.map((n) => n.index_name)).toEqual(plan.nodes.map((n) => n.indexName ?? ''));
    }
    const join = batch.slowQueries.find((q) => q.queryText.includes('qpm_customers'))!;
    const joinNodes = sets.filter((s) => s.query_id === join.queryId);
    expect(joinNodes.length).toBeGreaterThanOrEqual(3);
    expect(joinNodes.map((n) => n.relation_name)).toEqual(
      expect.arrayContaining(['qpm_orders', 'qpm_customers']),
    );
    expect(joinNodes.some((n) => n.index_name !== '' && n.scan_direction === 'Forward')).toBe(true);
  });

  it('keeps to the count threshold and to 10 executions per slow query', () => {
    const full = buildV3QpmGroups(batch, ALL);
    expect(setsOf(full, 'PostgresSlowQueries').length).toBeGreaterThan(2);
    for (const count of [1, 2]) {
      const capped = buildV3QpmGroups(batch, { countThreshold: count, responseTimeThresholdMs: 1 });
      for (const type of [
        'PostgresWaitEvents',
        'PostgresBlockingSessions',
        'PostgresSlowQueries',
      ]) {
        const sets = setsOf(capped, type);
        expect(sets.length).toBeLessThanOrEqual(count);
        // The first of the same ranking.
        expect(sets).toEqual(setsOf(full, type).slice(0, count));
      }
      const reported = setsOf(capped, 'PostgresSlowQueries').map((s) => s.query_id);
      const perQuery = new Map<unknown, number>();
      for (const set of setsOf(capped, 'PostgresIndividualQueries')) {
        expect(reported).toContain(set.query_id);
        perQuery.set(set.query_id, (perQuery.get(set.query_id) ?? 0) + 1);
      }
      for (const n of perQuery.values()) expect(n).toBeLessThanOrEqual(Math.min(count, 10));
      const plans = new Set(
        setsOf(capped, 'PostgresExecutionPlanMetrics').map((s) => `${s.query_id}/${s.plan_id}`),
      );
      expect(plans.size).toBeLessThanOrEqual(count);
    }

    // More executions than nri ever reports for one statement (copies of real ones).
    const join = batch.slowQueries.find((q) => q.queryText.includes('qpm_customers'))!;
    const seen = batch.individualQueries.find((e) => e.queryId === join.queryId);
    if (seen === undefined) return; // before 14: no executions to copy
    const many: IndividualQuery[] = Array.from({ length: 14 }, (_, i) => ({
      ...seen,
      pid: 10_000 + i,
      execTimeMs: 100 + i,
    }));
    const groups = buildV3QpmGroups({ ...batch, individualQueries: many }, ALL);
    const sets = setsOf(groups, 'PostgresIndividualQueries');
    expect(sets).toHaveLength(QPM_INDIVIDUAL_PER_SLOW_QUERY);
    expect(sets.map((s) => s.exec_time_ms)).toEqual(Array.from({ length: 10 }, (_, i) => 113 - i));
  });
});

describe('rules pinned on hand-built values', () => {
  it('cuts texts at 4095 characters without splitting a surrogate pair', () => {
    const q = batch.slowQueries[0]!;
    // Code point 4095 is the first emoji: a cut by UTF-16 units would keep half of it.
    const long = `SELECT '${'x'.repeat(4086)}😀😀 tail'`;
    const groups = buildV3QpmGroups({ ...batch, slowQueries: [{ ...q, queryText: long }] }, ALL);
    const text = String(setsOf(groups, 'PostgresSlowQueries')[0]?.query_text);
    expect(codePoints(text)).toBe(QPM_TEXT_LIMIT);
    expect(text.endsWith('x😀')).toBe(true);
    expect(text).toBe([...long].slice(0, QPM_TEXT_LIMIT).join(''));
  });

  it('anonymises slow-query texts mentioning ALTER, as nri does', () => {
    const q = batch.slowQueries[0]!;
    const alter = "ALTER ROLE app VALID UNTIL '2030-01-01' CONNECTION LIMIT 5";
    const groups = buildV3QpmGroups({ ...batch, slowQueries: [{ ...q, queryText: alter }] }, ALL);
    expect(setsOf(groups, 'PostgresSlowQueries')[0]?.query_text).toBe(
      'ALTER ROLE app VALID UNTIL ? CONNECTION LIMIT ?',
    );
  });

  it('keeps microseconds and converts offsets of query starts to UTC', () => {
    const e = batch.blockingSessions[0]!;
    const edge = {
      ...e,
      blockedQueryStart: '2025-01-01 12:00:00.123450+02',
      blockingQueryStart: '2025-01-01T09:59:59.000Z',
    };
    const set = setsOf(
      buildV3QpmGroups({ ...batch, blockingSessions: [edge] }, ALL),
      'PostgresBlockingSessions',
    )[0];
    expect(set?.blocked_query_start).toBe('2025-01-01T10:00:00.12345Z');
    expect(set?.blocking_query_start).toBe('2025-01-01T09:59:59Z');
  });

  it('prefers pg_wait_sampling over the session sampler in one batch', () => {
    const w = batch.waitEvents[0]!;
    const events = [
      { ...w, source: 'ash' as const, totalWaitTimeMs: 2_000 },
      { ...w, source: 'pg_wait_sampling' as const, totalWaitTimeMs: 1_870 },
    ];
    const sets = setsOf(
      buildV3QpmGroups({ ...batch, waitEvents: events }, ALL),
      'PostgresWaitEvents',
    );
    expect(sets.map((s) => s.total_wait_time_ms)).toEqual([1_870]);
  });
});
