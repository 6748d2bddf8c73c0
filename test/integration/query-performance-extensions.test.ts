import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebianPostgres, debianPostgresSkipReason } from '../helpers/debian-postgres.js';
import { QueryPerformanceHarness } from '../helpers/query-performance-harness.js';

const DB = 'qpx';
const MONITOR = { user: 'pgql_qpx_monitor', password: 'qpx-Monitor-1' };

/** What pg_stat_kcache and pg_wait_sampling add, on Debian's PostgreSQL 15 that packages them. */
describe('query performance with pg_wait_sampling and pg_stat_kcache', () => {
  let server: DebianPostgres | undefined;
  let skipReason: string | undefined;

  beforeAll(async () => {
    skipReason = debianPostgresSkipReason();
    if (skipReason !== undefined) return;
    server = await DebianPostgres.start();
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.query(
      `CREATE ROLE ${MONITOR.user} LOGIN PASSWORD '${MONITOR.password}' IN ROLE pg_monitor`,
    );
    await admin.end();
    const db = new pg.Client({ connectionString: server.url(DB) });
    await db.connect();
    await db.query(`CREATE EXTENSION pg_stat_statements;
                    CREATE EXTENSION pg_stat_kcache;
                    CREATE EXTENSION pg_wait_sampling;`);
    await db.end();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  async function sleepIn(seconds: number): Promise<void> {
    const c = new pg.Client({ connectionString: server!.url(DB) });
    await c.connect();
    await c.query('SELECT pg_sleep($1::float8)', [seconds]);
    await c.end();
  }

  for (const who of ['superuser', 'pg_monitor role'] as const) {
    it(`turns the pg_wait_sampling profile into wait time per query (${who})`, async ({ skip }) => {
      if (server === undefined) return skip(skipReason);
      const url =
        who === 'superuser' ? server.url(DB) : server.url(DB, MONITOR.user, MONITOR.password);
      const h = new QueryPerformanceHarness(
        url,
        [DB],
        undefined,
        `qpx-${who === 'superuser' ? 'super' : 'monitor'}`,
      );
      try {
        // The first read resets (superuser) or baselines (no right to reset) the profile.
        await h.collect('slow_queries', 'wait_events');
        await sleepIn(0.6);
        await h.collect('slow_queries');
        const batch = await h.collect('wait_events');
        const sleep = batch.waitEvents.find(
          (w) => w.source === 'pg_wait_sampling' && w.waitEventName === 'Timeout:PgSleep',
        );
        expect(sleep, JSON.stringify(batch.waitEvents)).toBeDefined();
        // 10 ms samples over a 0.6 s sleep; the sampler may miss a few.
        expect(sleep!.totalWaitTimeMs).toBeGreaterThanOrEqual(400);
        expect(sleep!.totalWaitTimeMs).toBeLessThanOrEqual(1_000);
        expect(sleep!.queryId).toMatch(/^-?\d+$/);
        expect(sleep!.databaseName).toBe(DB);
        expect(sleep!.queryText).toMatch(/pg_sleep/);
        expect(sleep!.waitCategory).toBe('Other');
        // Idle clients and background main loops are not statement time.
        expect(batch.waitEvents.some((w) => w.waitEventName === 'Client:ClientRead')).toBe(false);

        // Nothing slept since: nothing is reported twice.
        const again = await h.collect('wait_events');
        expect(
          again.waitEvents.filter(
            (w) => w.source === 'pg_wait_sampling' && w.waitEventName === 'Timeout:PgSleep',
          ),
        ).toEqual([]);
      } finally {
        await h.close();
      }
    });
  }

  it('gives recent executions of a slow query their CPU time from pg_stat_kcache', async ({
    skip,
  }) => {
    if (server === undefined) return skip(skipReason);
    const h = new QueryPerformanceHarness(server.url(DB), [DB], undefined, 'qpx-kcache');
    const worker = new pg.Client({ connectionString: server.url(DB) });
    await worker.connect();
    const cpuBound = (): Promise<unknown> =>
      worker.query('SELECT count(*) FROM generate_series(1, 4000000) g WHERE g % 7 = $1', [3]);
    const admin = new pg.Client({ connectionString: server.url(DB) });
    await admin.connect();
    try {
      await h.collect('slow_queries');
      // Two intervals: pg_stat_kcache is differenced, so CPU appears from the second on.
      const batches = [];
      for (let round = 0; round < 2; round++) {
        const running = cpuBound();
        for (let i = 0; i < 50; i++) {
          const busy = await admin.query(
            "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%generate_series%' AND pid <> pg_backend_pid()",
          );
          if (busy.rowCount === 1) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await h.tick();
        await running;
        batches.push(await h.collect('slow_queries'));
      }
      const last = batches.at(-1)!;
      const slow = last.slowQueries.find((q) => q.queryText.includes('generate_series'));
      expect(slow, JSON.stringify(last.slowQueries)).toBeDefined();
      const execution = last.individualQueries.find((q) => q.queryId === slow!.queryId);
      expect(execution, JSON.stringify(last.individualQueries)).toMatchObject({
        source: 'ash',
        databaseName: DB,
      });
      expect(execution!.cpuTimeMs).toBeGreaterThan(10);
      expect(execution!.queryText).toMatch(/generate_series\(\?, \?\)/);
    } finally {
      await worker.end();
      await admin.end();
      await h.close();
    }
  });
});
