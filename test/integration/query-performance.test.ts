import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import {
  privateServer,
  QueryPerformanceHarness,
  testSettings,
} from '../helpers/query-performance-harness.js';

const DB = 'qp';
let server: EmbeddedServer;
let url: string;
let superuser: () => Promise<pg.Client>;
let major: number;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = await superuser();
  // A cancelled or terminated session must not crash the test run.
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

/** Waits until `check` holds, polling; fails with `what` after a few seconds. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitingOnLocks(admin: pg.Client, count: number): Promise<void> {
  await until(`${count} sessions waiting on locks`, async () => {
    const rows = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1`,
      [DB],
    );
    return Number(rows.rows[0]?.n) >= count;
  });
}

beforeAll(async () => {
  ({ server, url, superuser } = await privateServer(DB));
  major = server.major;
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server?.stop();
});

describe('slow queries', () => {
  it('ranks statements by execution time in the interval, not over their lifetime', async () => {
    const h = new QueryPerformanceHarness(url, [DB]);
    try {
      const c = await client();
      // Lifetime-expensive before the baseline, idle afterwards: must not rank.
      await c.query('SELECT pg_sleep(0.3) FROM pg_type LIMIT 1');
      const baseline = await h.collect('slow_queries');
      expect(baseline.probes[0]?.rows[0]?.status).toBe('baseline');
      expect(baseline.slowQueries).toEqual([]);

      for (let i = 0; i < 2; i++) await c.query('SELECT pg_sleep(0.15)');
      for (let i = 0; i < 30; i++) await c.query('SELECT count(*) FROM pg_class');
      // A utility statement keeps its constants in pg_stat_statements. (Its nested statement
      // must not look like the pg_sleep above: before PG14 nested and top-level calls merge.)
      await c.query(
        `DO $$ BEGIN PERFORM pg_sleep(0.05)::text; RAISE NOTICE 'secret-literal-4711'; END $$`,
      );
      const batch = await h.collect('slow_queries');
      const utility = batch.slowQueries.find((q) => q.queryText.startsWith('DO'));
      expect(utility?.queryText).toBe('DO ?');
      expect(JSON.stringify(batch)).not.toContain('secret-literal-4711');
      const first = batch.slowQueries[0];
      expect(first?.queryText).toMatch(/pg_sleep/);
      expect(batch.slowQueries.some((q) => q.queryText.includes('pg_type'))).toBe(false);
      expect(first).toMatchObject({ calls: 2, databaseName: DB, statementType: 'SELECT' });
      expect(first?.meanExecTimeMs).toBeGreaterThanOrEqual(140);
      expect(first?.intervalSeconds).toBeGreaterThan(0);
      const count = batch.slowQueries.find((q) => q.queryText.includes('pg_class'));
      expect(count?.calls).toBe(30);
      expect(batch.probes[0]?.rows[0]?.status).toBe('ok');
    } finally {
      await h.close();
    }
  });

  it('counts a statement evicted and re-created from zero, and re-baselines on a reset', async () => {
    const h = new QueryPerformanceHarness(url, [DB]);
    try {
      const c = await client();
      const evictedSql = 'SELECT pg_sleep(0.05) FROM pg_namespace LIMIT 1';
      for (let i = 0; i < 3; i++) await c.query(evictedSql);
      await h.collect('slow_queries');
      // Column aliases are not part of a queryid: each step reads its own relation instead.
      // Evict this database's entries only (the three-argument form exists since 1.7).
      await c.query(
        'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)',
        [DB],
      );
      await c.query(evictedSql);
      const after = await h.collect('slow_queries');
      const row = after.probes[0]?.rows[0];
      const evicted = after.slowQueries.find((q) => q.queryText.includes('pg_namespace'));
      if (major >= 17) {
        // stats_since says the entry was re-created within the interval: its counters are it.
        expect(evicted?.calls).toBe(1);
      } else {
        // Before 17 only the counters going down (3 → 1) tell; the interval is lost, never
        // reported as a negative or lifetime figure.
        expect(evicted).toBeUndefined();
        expect(Number(row?.negative)).toBeGreaterThan(0);
      }

      if (major >= 14) {
        // pg_stat_statements_info (1.9): a full reset voids the interval.
        await c.query('SELECT pg_stat_statements_reset()');
        await c.query('SELECT pg_sleep(0.05) FROM pg_am LIMIT 1');
        const reset = await h.collect('slow_queries');
        expect(reset.probes[0]?.rows[0]?.status).toBe('reset');
        expect(reset.slowQueries).toEqual([]);
        await c.query('SELECT pg_sleep(0.05) FROM pg_am LIMIT 1');
        const next = await h.collect('slow_queries');
        expect(next.probes[0]?.rows[0]?.status).toBe('ok');
        expect(next.slowQueries.find((q) => q.queryText.includes('pg_am'))?.calls).toBe(1);
      }
    } finally {
      await h.close();
    }
  });
});

describe('active session history and wait events', () => {
  it('averages active sessions per window, tells idle from outage, estimates wait time', async () => {
    const h = new QueryPerformanceHarness(url, [DB]);
    try {
      const sleeper = await client();
      const idleTx = await client();
      const sleeping = sleeper.query('SELECT pg_sleep(3)').catch(() => undefined);
      await idleTx.query('BEGIN');
      await idleTx.query('SELECT 1');
      const admin = await client();
      await until('the sleeper to run', async () => {
        const r = await admin.query(
          "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1",
          [DB],
        );
        return r.rowCount === 1;
      });
      await h.tick(2);
      const batch = await h.collect('active_session_history', 'wait_events');
      const window = batch.activeSessions[0];
      expect(window?.ticks).toBe(2);
      expect(window?.failedTicks).toBe(0);
      const sleep = window?.buckets.find((b) => b.waitEvent === 'PgSleep');
      expect(sleep).toMatchObject({ waitEventType: 'Timeout', state: 'active', samples: 2 });
      expect(sleep?.averageActiveSessions).toBe(1);
      expect(window?.buckets.some((b) => b.state === 'idle in transaction')).toBe(true);
      if (major >= 14) expect(sleep?.queryId).toMatch(/^-?\d+$/);

      const wait = batch.waitEvents.find((w) => w.waitEventName === 'Timeout:PgSleep');
      expect(wait).toMatchObject({ source: 'ash', sampleCount: 2, waitCategory: 'Other' });
      expect(wait?.totalWaitTimeMs).toBe(2 * (window?.sampleIntervalMs ?? 0));
      expect(wait?.description).toMatch(/\w/);
      // Idle in a transaction is the application's time, not a statement's wait.
      expect(batch.waitEvents.some((w) => w.waitEventName === 'Client:ClientRead')).toBe(false);

      await idleTx.query('ROLLBACK');
      await sleeping;
      // No ticks at all (the sampler was not running) differs from ticks that saw nobody.
      const outage = await h.collect('active_session_history');
      expect(outage.activeSessions[0]).toMatchObject({ ticks: 0, samples: 0 });
      await h.tick();
      const idle = await h.collect('active_session_history');
      expect(idle.activeSessions[0]).toMatchObject({ ticks: 1, samples: 0 });
    } finally {
      await h.close();
    }
  });
});

describe('blocking sessions', () => {
  it('reports a chain with an idle-in-transaction root and a prepared-transaction blocker', async () => {
    const h = new QueryPerformanceHarness(url, [DB]);
    const admin = await client();
    await admin.query('CREATE TABLE locks_t (id int PRIMARY KEY, v int)');
    await admin.query('INSERT INTO locks_t VALUES (1, 0), (2, 0)');
    const root = await client();
    const middle = await client();
    const tail = await client();
    const pidOf = async (c: pg.Client): Promise<number> =>
      (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    try {
      const [rootPid, middlePid, tailPid] = [
        await pidOf(root),
        await pidOf(middle),
        await pidOf(tail),
      ];
      await root.query('BEGIN');
      await root.query('UPDATE locks_t SET v = 1 WHERE id = 1');
      const m = middle.query('UPDATE locks_t SET v = 2 WHERE id = 1').catch(() => undefined);
      await waitingOnLocks(admin, 1);
      const t = tail.query('UPDATE locks_t SET v = 3 WHERE id = 1').catch(() => undefined);
      await waitingOnLocks(admin, 2);

      await h.tick();
      const batch = await h.collect('blocking_sessions');
      const edges = batch.blockingSessions;
      const direct = edges.find((e) => e.blockedPid === middlePid && e.blockingPid === rootPid);
      expect(direct).toMatchObject({
        databaseName: DB,
        rootBlockingPid: rootPid,
        depth: 1,
        blockingState: 'idle in transaction',
      });
      expect(direct?.blockedQuery).toMatch(/UPDATE locks_t SET v = \? WHERE id = \?/);
      expect(direct?.blockingQuery).toMatch(/UPDATE locks_t/);
      if (major >= 14) expect(direct?.blockedForMs).toBeGreaterThanOrEqual(0);
      const tailEdges = edges.filter((e) => e.blockedPid === tailPid);
      expect(tailEdges.length).toBeGreaterThan(0);
      for (const e of tailEdges) expect(e.rootBlockingPid).toBe(rootPid);
      expect(Math.max(...tailEdges.map((e) => e.depth))).toBe(2);

      await root.query('ROLLBACK');
      await Promise.all([m, t]);

      // A prepared transaction holds its locks with no session: pg_blocking_pids says 0.
      await root.query('BEGIN');
      await root.query('UPDATE locks_t SET v = 9 WHERE id = 2');
      await root.query("PREPARE TRANSACTION 'pgql_prepared'");
      const w = middle.query('UPDATE locks_t SET v = 10 WHERE id = 2').catch(() => undefined);
      await waitingOnLocks(admin, 1);
      await h.tick();
      const prepared = await h.collect('blocking_sessions');
      const edge = prepared.blockingSessions.find((e) => e.blockedPid === middlePid);
      expect(edge).toMatchObject({ blockingPid: 0, rootBlockingPid: 0, depth: 1 });
      expect(edge?.blockingQuery).toContain('pgql_prepared');
      await admin.query("ROLLBACK PREPARED 'pgql_prepared'");
      await w;
    } finally {
      await admin.query("ROLLBACK PREPARED 'pgql_prepared'").catch(() => undefined);
      await h.close();
    }
  });

  it('does not read lock trees while nobody waits on a lock', async () => {
    const h = new QueryPerformanceHarness(url, [DB]);
    try {
      const admin = await client();
      const before = await admin.query<{ calls: string }>(
        "SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements WHERE query LIKE '%pg_blocking_pids%'",
      );
      await h.tick(3);
      const batch = await h.collect('blocking_sessions');
      expect(batch.blockingSessions).toEqual([]);
      const after = await admin.query<{ calls: string }>(
        "SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements WHERE query LIKE '%pg_blocking_pids%'",
      );
      expect(Number(after.rows[0]?.calls)).toBe(Number(before.rows[0]?.calls));
    } finally {
      await h.close();
    }
  });
});

describe('execution plans', () => {
  it(
    'changes the plan hash when an index appears and flags a regression when it goes',
    { timeout: 90_000 },
    async () => {
      const settings = testSettings({
        regression: {
          ratio: 1.5,
          minExtraMsPerHour: 1,
          windowMs: 1,
          minCalls: 5,
          baselineWindowMs: 86_400_000,
        },
      });
      const h = new QueryPerformanceHarness(url, [DB], settings, 'qp-plans');
      const c = await client();
      await c.query('CREATE TABLE big (a int, b text)');
      await c.query('INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 200000) g');
      await c.query('ANALYZE big');
      const lookup = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) await c.query('SELECT b FROM big WHERE a = $1', [i * 7 + 1]);
      };
      const isLookup = (text: string): boolean => /FROM big WHERE a = \$1/.test(text);
      try {
        await h.collect('slow_queries');
        await lookup(6);
        await h.collect('slow_queries');
        const first = await h.collect('execution_plans');
        const seqPlan = first.executionPlans.find((p) =>
          isLookup(h.state.texts.get('qp-plans', p.queryId) ?? ''),
        );
        expect(seqPlan?.nodes.some((n) => n.nodeType === 'Seq Scan')).toBe(true);
        expect(seqPlan?.planHash).toMatch(/^[0-9a-f]{16}$/);
        expect(seqPlan?.generic).toBe(true);
        expect(first.planChanges).toEqual([]);

        await c.query('CREATE INDEX big_a ON big (a)');
        await c.query('ANALYZE big');
        await lookup(6);
        await h.collect('slow_queries');
        const second = await h.collect('execution_plans');
        const idxPlan = second.executionPlans.find((p) => p.queryId === seqPlan?.queryId);
        expect(idxPlan?.planHash).not.toBe(seqPlan?.planHash);
        expect(idxPlan?.nodes.some((n) => n.indexName === 'big_a')).toBe(true);
        expect(second.planChanges).toContainEqual(
          expect.objectContaining({
            kind: 'new_plan',
            queryId: seqPlan?.queryId,
            previousPlanHash: seqPlan?.planHash,
            newPlanHash: idxPlan?.planHash,
          }),
        );

        // The index plan's baseline, then the index goes and the statement slows down.
        await lookup(30);
        await h.collect('slow_queries');
        await c.query('DROP INDEX big_a');
        const third = await h.collect('execution_plans');
        expect(third.planChanges.map((p) => p.kind)).toContain('new_plan');
        await lookup(10);
        const verdict = await h.collect('slow_queries');
        const regression = verdict.planChanges.find((p) => p.kind === 'suspected_regression');
        expect(regression).toMatchObject({
          queryId: seqPlan?.queryId,
          previousPlanHash: idxPlan?.planHash,
          newPlanHash: seqPlan?.planHash,
          generic: true,
        });
        expect(regression?.newMeanMs).toBeGreaterThanOrEqual(
          1.5 * (regression?.previousMeanMs ?? 0),
        );
        // Recent executions name the plan they ran with.
        expect(verdict.slowQueries.some((q) => q.queryId === seqPlan?.queryId)).toBe(true);
      } finally {
        await h.close();
      }
    },
  );

  it('never sends a hostile text to the server', async () => {
    const h = new QueryPerformanceHarness(url, [DB], testSettings(), 'qp-hostile');
    const c = await client();
    await c.query('CREATE TABLE hostile (id int)');
    try {
      const hostile = [
        'SELECT 1; DROP TABLE hostile',
        'DROP TABLE hostile',
        'SELECT * INTO hostile_copy FROM hostile',
        'SELECT 1 /* ; */; DELETE FROM hostile',
        'TRUNCATE hostile',
      ];
      hostile.forEach((text, i) => h.state.texts.set('qp-hostile', String(9_000 + i), text));
      h.state.setLatestSlowQueries(
        'qp-hostile',
        hostile.map((text, i) => ({
          queryId: String(9_000 + i),
          queryText: text,
          databaseName: DB,
          statementType: 'OTHER' as const,
          toplevel: true,
          intervalSeconds: 60,
          calls: 1,
          totalExecTimeMs: 1,
          meanExecTimeMs: 1,
          rows: 0,
          avgDiskReads: 0,
          avgDiskWrites: 0,
          collectedAt: new Date().toISOString(),
        })),
      );
      const batch = await h.collect('execution_plans');
      expect(batch.executionPlans).toEqual([]);
      const still = await c.query(
        "SELECT to_regclass('hostile') IS NOT NULL AS here, to_regclass('hostile_copy') IS NULL AS no_copy",
      );
      expect(still.rows[0]).toEqual({ here: true, no_copy: true });

      // A session whose text is hostile is sampled, obfuscated, and nothing more.
      const victim = await client();
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
        .pid;
      const running = victim
        .query("SELECT pg_sleep(5), 'secret-literal'; DROP TABLE hostile")
        .catch(() => undefined);
      await until('the hostile session to run', async () => {
        const r = await c.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
          [pid],
        );
        return r.rowCount === 1;
      });
      await h.tick();
      const sampled = await h.collect('active_session_history');
      expect(sampled.activeSessions[0]?.samples).toBeGreaterThan(0);
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
      await running;
      const after = await c.query("SELECT to_regclass('hostile') IS NOT NULL AS here");
      expect(after.rows[0]).toEqual({ here: true });
    } finally {
      await h.close();
    }
  });
});

describe('the SECURITY DEFINER explain helper', () => {
  it('plans statements on tables the monitoring role may not read (16+)', async ({ skip }) => {
    if (major < 16) return skip('GENERIC_PLAN, which the helper uses, needs PostgreSQL 16');
    const admin = await client();
    await admin.query(`CREATE ROLE qp_monitor LOGIN PASSWORD 'qp-Monitor-1' IN ROLE pg_monitor;
      CREATE TABLE private_t (id int PRIMARY KEY, secret text);
      CREATE SCHEMA pgquerylens;
      CREATE FUNCTION pgquerylens.explain_statement(statement text) RETURNS json
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE plan json;
      BEGIN
        IF position(';' IN statement) > 0 THEN RAISE EXCEPTION 'one statement only'; END IF;
        SET LOCAL transaction_read_only = on;
        EXECUTE 'EXPLAIN (GENERIC_PLAN, FORMAT JSON) ' || statement INTO plan;
        RETURN plan;
      END $$;
      REVOKE ALL ON FUNCTION pgquerylens.explain_statement(text) FROM PUBLIC;
      GRANT USAGE ON SCHEMA pgquerylens TO qp_monitor;
      GRANT EXECUTE ON FUNCTION pgquerylens.explain_statement(text) TO qp_monitor;`);
    const monitorUrl = new URL(url);
    monitorUrl.username = 'qp_monitor';
    monitorUrl.password = 'qp-Monitor-1';
    const planFor = async (settings: ReturnType<typeof testSettings>, name: string) => {
      const h = new QueryPerformanceHarness(monitorUrl.toString(), [DB], settings, name);
      try {
        await h.collect('slow_queries');
        for (let i = 0; i < 5; i++) {
          await admin.query('SELECT secret FROM public.private_t WHERE id = $1', [i]);
        }
        await h.collect('slow_queries');
        const batch = await h.collect('execution_plans');
        return batch.executionPlans.find((p) =>
          (h.state.texts.get(name, p.queryId) ?? '').includes('private_t'),
        );
      } finally {
        await h.close();
      }
    };
    // Without the helper the role may not plan the statement: no plan, nothing breaks.
    expect(await planFor(testSettings(), 'qp-nohelper')).toBeUndefined();
    const withHelper = await planFor(
      testSettings({
        plans: {
          perQueryIntervalMs: 1,
          maxPerCycle: 20,
          failureTtlMs: 1,
          explainFunction: 'pgquerylens.explain_statement',
        },
      }),
      'qp-helper',
    );
    expect(withHelper?.nodes[0]?.relationName ?? withHelper?.nodes[1]?.relationName).toBe(
      'private_t',
    );
  });
});
