import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { silentLogger } from '../../src/core/logger.js';
import { sleep } from '../../src/core/timeout.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const testDatabases = inject('testDatabases');
const major = inject('pgMajor');
const connectors: PgTargetConnector[] = [];

function connector(extra: Record<string, unknown> = {}, url = pgUrl): PgTargetConnector {
  const c = new PgTargetConnector(targetFor(url, extra), silentLogger);
  connectors.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(connectors.map((c) => c.close()));
});

describe('PgTargetConnector on a real server', () => {
  it('runs on the PostgreSQL major the version matrix asked for', () => {
    const expected = process.env.PGQUERYLENS_EXPECT_MAJOR;
    if (expected !== undefined && expected !== '') expect(major).toBe(Number(expected));
    expect(major).toBeGreaterThanOrEqual(12);
  });

  it('detects server facts once per connection', async () => {
    const facts = await connector().facts();
    expect(facts.major).toBe(major);
    expect(facts.versionNum).toBeGreaterThanOrEqual(major * 10_000);
    expect(facts.isInRecovery).toBe(false);
    expect(facts.isSuperuser).toBe(true);
    expect(facts.extensionSchemas).toMatchObject({
      pg_stat_statements: 'public',
      plpgsql: 'pg_catalog',
    });
    expect(facts.hasPgMonitor).toBe(true);
    expect(facts.hasReadAllStats).toBe(true);
    expect(facts.extensions).toHaveProperty('plpgsql');
    expect(facts.extensions).toHaveProperty('pg_stat_statements');
    expect(facts.systemIdentifier).toMatch(/^\d{10,}$/);
    if (major >= 14) expect(facts.computeQueryId).toBe('on');
    else expect(facts.computeQueryId).toBeUndefined();
  });

  it('tags sessions and sets jit, lock_timeout and statement_timeout', async () => {
    const c = connector({ statementTimeout: '4s' });
    const settings = await c.withSession(undefined, (s) =>
      s.query<{ app: string; jit: string; lock: string; stmt: string }>(
        `SELECT current_setting('application_name') AS app, current_setting('jit') AS jit,
                current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS stmt`,
      ),
    );
    expect(settings[0]).toEqual({ app: 'pgquerylens', jit: 'off', lock: '100ms', stmt: '4s' });
    const perQuery = await c.withSession(undefined, (s) =>
      s.query<{ stmt: string }>("SELECT current_setting('statement_timeout') AS stmt", [], {
        timeoutMs: 1500,
      }),
    );
    expect(perQuery[0]?.stmt).toBe('1500ms');
  });

  it('cancels a query that outlives its statement timeout, and the session stays usable', async () => {
    const c = connector();
    await c.withSession(undefined, async (s) => {
      await expect(s.query('SELECT pg_sleep(3)', [], { timeoutMs: 200 })).rejects.toMatchObject({
        code: '57014',
      });
      const rows = await s.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
    });
  });

  it('returns counters as numbers and timestamps as ISO strings', async () => {
    const rows = await connector().withSession(undefined, (s) =>
      s.query<{ big: number; num: number; ts: string; txt: string }>(
        "SELECT 9007199254740::int8 AS big, 1.5::numeric AS num, '2026-01-02 03:04:05+00'::timestamptz AS ts, 42::int8::text AS txt",
      ),
    );
    expect(rows[0]).toEqual({
      big: 9007199254740,
      num: 1.5,
      ts: '2026-01-02T03:04:05.000Z',
      txt: '42',
    });
  });

  it('lists connectable non-template databases, honouring lists and excludes', async () => {
    const all = await connector().listDatabases();
    expect(all).toEqual(expect.arrayContaining(['postgres', ...testDatabases]));
    expect(all).not.toContain('template0');
    expect(all).not.toContain('template1');
    const excluded = await connector({ excludeDatabases: [testDatabases[0]] }).listDatabases();
    expect(excluded).not.toContain(testDatabases[0]);
    expect(excluded).toContain(testDatabases[1]);
    const listed = await connector({ databases: [testDatabases[1], 'no_such_db'] }).listDatabases();
    expect(listed).toEqual([testDatabases[1]]);
  });

  it('limits concurrent sessions per target to maxConcurrentQueries', async () => {
    const c = connector({ maxConcurrentQueries: 2, maxConnections: 5 });
    let inside = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        c.withSession(undefined, async (s) => {
          inside += 1;
          peak = Math.max(peak, inside);
          await s.query('SELECT pg_sleep(0.05)');
          inside -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
  });

  it('never opens more than maxConnections across all databases', async () => {
    const c = connector({ maxConnections: 2, maxConcurrentQueries: 4 });
    const databases = ['postgres', ...testDatabases];
    const seen = new Set<number>();
    for (let round = 0; round < 2; round += 1) {
      await Promise.all(
        databases.map((db) =>
          c.withSession(db, async (s) => {
            const rows = await s.query<{ db: string; pid: number }>(
              'SELECT current_database() AS db, pg_backend_pid() AS pid',
            );
            expect(rows[0]?.db).toBe(db);
            seen.add(rows[0]?.pid ?? 0);
            expect(c.openConnections).toBeLessThanOrEqual(2);
          }),
        ),
      );
    }
    expect(c.openConnections).toBeLessThanOrEqual(2);
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    const open = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgquerylens' AND pid = ANY($1)",
      [[...seen]],
    );
    await admin.end();
    expect(open.rows[0]?.n).toBeLessThanOrEqual(2);
  });

  it('reconnects after its connection is terminated, re-detecting facts', async () => {
    const c = connector();
    const pid = await c.withSession(
      undefined,
      async (s) => (await s.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid,
    );
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    await sleep(100);
    const facts = await c.facts();
    expect(facts.major).toBe(major);
    const newPid = await c.withSession(
      undefined,
      async (s) => (await s.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid,
    );
    expect(newPid).not.toBe(pid);
  });

  it('hands a released connection to a live waiter when an earlier waiter gave up', async () => {
    const c = connector({ maxConnections: 1, maxConcurrentQueries: 3 });
    const holder = c.withSession(undefined, (s) => s.query('SELECT pg_sleep(0.3)'));
    await sleep(30);
    const impatient = c.withSession(undefined, (s) => s.query('SELECT 1'), AbortSignal.timeout(50));
    const patient = c.withSession(undefined, (s) => s.query<{ ok: number }>('SELECT 7 AS ok'));
    await expect(impatient).rejects.toThrow();
    await holder;
    const started = Date.now();
    await expect(patient).resolves.toEqual([{ ok: 7 }]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reports an unreachable server as an error, without crashing', async () => {
    const url = new URL(pgUrl);
    url.port = '1';
    const c = connector({ connectTimeout: '1s' }, url.toString());
    await expect(c.facts()).rejects.toThrow(/ECONNREFUSED|connect/);
    await expect(c.facts()).rejects.toThrow();
  });
});
