import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAINTENANCE_PROBES } from '../../src/collectors/probes/catalog-maintenance.js';
import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { pgLocks } from '../../src/collectors/probes/pg-locks.js';
import {
  LONG_RUNNING_THRESHOLD_SECONDS,
  longRunningSessionsProbe,
  pgLongRunningSessions,
} from '../../src/collectors/probes/pg-long-running-sessions.js';
import { pgStatProgressAnalyze } from '../../src/collectors/probes/pg-stat-progress-analyze.js';
import { pgStatProgressBasebackup } from '../../src/collectors/probes/pg-stat-progress-basebackup.js';
import { pgStatProgressCluster } from '../../src/collectors/probes/pg-stat-progress-cluster.js';
import { pgStatProgressCopy } from '../../src/collectors/probes/pg-stat-progress-copy.js';
import { pgStatProgressCreateIndex } from '../../src/collectors/probes/pg-stat-progress-create-index.js';
import { pgStatProgressVacuum } from '../../src/collectors/probes/pg-stat-progress-vacuum.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import { FIXTURES } from '../helpers/probe-fixtures.js';
import { runProbe, type ProbeRun } from '../helpers/probe-run.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');

/** This file's own objects, apart from the shared fixtures. */
const SCHEMA = 'pgql_maint_probe';
const TABLE = `${SCHEMA}.work`;
/** Advisory lock keys that block a test's statement until the test lets go. */
const COPY_KEY = 7_301;
const QUERY_KEY = 7_302;

function urlFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Server-scoped probes resolve relation names only in the database they are connected to. */
const suOnA = urlFor(pgUrl, FIXTURES.database);
const ROLES = [
  ['superuser', suOnA],
  ['pg_monitor role', monitorUrl === '' ? '' : urlFor(monitorUrl, FIXTURES.database)],
] as const;

const clients: pg.Client[] = [];

/** A client that knows its backend's pid. */
type Session = pg.Client & { readonly pid: number };

/** A superuser session on the fixture database, closed after the test. */
async function session(config: pg.ClientConfig = {}): Promise<Session> {
  const client = new pg.Client({ connectionString: suOnA, ...config });
  // A terminated session must not crash the run; its pending query reports the error.
  client.on('error', () => {});
  await client.connect();
  clients.push(client);
  const res = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return Object.assign(client, { pid: res.rows[0]!.pid });
}

async function closeSessions(): Promise<void> {
  const open = clients.splice(0);
  await Promise.all(open.map((c) => c.end().catch(() => {})));
}

/** Polls until `check` holds; the commands watched here run until the test stops them. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether `view` has a row for `pid`, in `phase` when given (phases that last until stopped). */
async function hasRow(
  observer: pg.Client,
  view: string,
  pid: number,
  phase?: string,
): Promise<boolean> {
  const res =
    phase === undefined
      ? await observer.query(`SELECT 1 FROM ${view} WHERE pid = $1`, [pid])
      : await observer.query(`SELECT 1 FROM ${view} WHERE pid = $1 AND phase = $2`, [pid, phase]);
  return res.rowCount === 1;
}

/** How a statement ended: 'completed' or its error message. Never rejects. */
async function outcome(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'completed';
  } catch (err) {
    return (err as Error).message;
  }
}

function expectSuccess(run: ProbeRun): readonly ProbeRow[] {
  expect(run.statuses).toHaveLength(1);
  expect(run.statuses[0]?.success, run.statuses[0]?.error).toBe(true);
  return run.rows;
}

function expectUnavailable(run: ProbeRun, reason: RegExp): void {
  expect(run.statuses[0]?.unavailable).toBe(true);
  expect(run.statuses[0]?.error).toMatch(reason);
}

/** The probe's row for `pid`, read as every role that exists on this server. */
async function rowsForPid(probe: ProbeCollector, pid: number): Promise<[string, ProbeRow][]> {
  const found: [string, ProbeRow][] = [];
  for (const [label, url] of ROLES) {
    if (url === '') continue;
    const rows = expectSuccess(await runProbe(url, probe));
    const row = rows.find((r) => r.pid === pid);
    expect(row, `${probe.name} as ${label}`).toBeDefined();
    found.push([label, row!]);
  }
  return found;
}

function expectDuration(row: ProbeRow): void {
  expect(typeof row.duration_seconds).toBe('number');
  expect(row.duration_seconds as number).toBeGreaterThanOrEqual(0);
}

beforeAll(async () => {
  const db = new pg.Client({ connectionString: suOnA });
  await db.connect();
  try {
    // Autovacuum stays away so VACUUM finds every page still to scan.
    await db.query(`
      DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE;
      CREATE SCHEMA ${SCHEMA};
      CREATE TABLE ${TABLE} (id int, v text) WITH (autovacuum_enabled = false);
      INSERT INTO ${TABLE} SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
      CREATE TABLE ${SCHEMA}.locked (id int);
    `);
  } finally {
    await db.end();
  }
});

afterEach(closeSessions);

afterAll(async () => {
  await closeSessions();
  const db = new pg.Client({ connectionString: suOnA });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

describe('maintenance probe catalogue', () => {
  it('registers every server-scoped probe of this batch once', () => {
    const names = MAINTENANCE_PROBES.map((p) => p.name);
    expect(names).toEqual([
      'pg_locks',
      'pg_long_running_sessions',
      'pg_stat_progress_vacuum',
      'pg_stat_progress_analyze',
      'pg_stat_progress_create_index',
      'pg_stat_progress_cluster',
      'pg_stat_progress_basebackup',
      'pg_stat_progress_copy',
    ]);
    for (const probe of MAINTENANCE_PROBES) expect(probe.scope).toBe('server');
    expect(pgLongRunningSessions.description).toContain(`${LONG_RUNNING_THRESHOLD_SECONDS} s`);
  });
});

describe('pg_locks', () => {
  it('counts a held SHARE lock and a queued EXCLUSIVE lock on the same table', async () => {
    const holder = await session();
    const waiter = await session();
    const observer = await session();
    await holder.query(`BEGIN; LOCK TABLE ${SCHEMA}.locked IN SHARE MODE`);
    await waiter.query('BEGIN');
    const queued = outcome(waiter.query(`LOCK TABLE ${SCHEMA}.locked IN EXCLUSIVE MODE`));
    await waitFor('the EXCLUSIVE lock to queue', async () => {
      const res = await observer.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted', [
        waiter.pid,
      ]);
      return res.rowCount === 1;
    });
    try {
      for (const [label, url] of ROLES) {
        if (url === '') continue;
        const rows = expectSuccess(await runProbe(url, pgLocks));
        const share = rows.find(
          (r) => r.datname === FIXTURES.database && r.mode === 'ShareLock' && r.granted === true,
        );
        expect(share, label).toMatchObject({ locktype: 'relation', waiting_sessions: 0 });
        expect(share!.locks as number).toBeGreaterThanOrEqual(1);
        const waiting = rows.find(
          (r) =>
            r.datname === FIXTURES.database && r.mode === 'ExclusiveLock' && r.granted === false,
        );
        expect(waiting, label).toMatchObject({ locktype: 'relation', waiting_sessions: 1 });
        if (major >= 14) {
          // waitstart can lag the queueing by a moment, hence null or a number.
          expect([null, 'number']).toContain(
            waiting!.max_wait_seconds === null ? null : typeof waiting!.max_wait_seconds,
          );
          expect(share!.max_wait_seconds).toBeNull();
        } else {
          expect(waiting).not.toHaveProperty('max_wait_seconds');
        }
        // Transaction-id locks belong to no database.
        expect(rows.some((r) => r.locktype === 'virtualxid' && r.datname === '')).toBe(true);
      }
    } finally {
      await holder.query('ROLLBACK');
      expect(await queued).toBe('completed');
      await waiter.query('ROLLBACK');
    }
  });
});

describe('pg_long_running_sessions', () => {
  it('classifies idle-in-transaction, long statements and long transactions', async () => {
    const threshold = 2;
    const probe = longRunningSessionsProbe(threshold);
    const idle = await session({ application_name: 'pgql_maint_idle' });
    const holder = await session();
    const blocked = await session();
    const mixed = await session();
    await idle.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await idle.query('SELECT 1');
    await holder.query('SELECT pg_advisory_lock($1)', [QUERY_KEY]);
    // The comment stands for a statement that carries a secret.
    const stuck = outcome(
      blocked.query(`SELECT pg_advisory_lock(${QUERY_KEY}) /* password 'x' */`),
    );
    await mixed.query('BEGIN');
    await mixed.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, (threshold + 0.5) * 1000));
    // A fresh statement: the transaction is old but the session's state is not.
    await mixed.query('SELECT 2');
    try {
      for (const [label, url] of ROLES) {
        if (url === '') continue;
        const rows = expectSuccess(await runProbe(url, probe));
        const byPid = new Map(rows.map((r) => [r.pid, r]));
        const idleRow = byPid.get(idle.pid);
        expect(idleRow, label).toMatchObject({
          kind: 'idle_in_transaction',
          state: 'idle in transaction',
          datname: FIXTURES.database,
          application_name: 'pgql_maint_idle',
          backend_type: 'client backend',
          query: 'SELECT ?',
        });
        // host(), not inet's text form with its /32.
        expect(String(idleRow!.client_addr)).not.toContain('/');
        expect(idleRow!.xact_age_seconds as number).toBeGreaterThan(threshold);
        expect(idleRow!.state_age_seconds as number).toBeGreaterThan(threshold);
        // A REPEATABLE READ snapshot holds back the xmin horizon.
        expect(Number.isInteger(idleRow!.xmin_age)).toBe(true);
        expect(byPid.get(blocked.pid), label).toMatchObject({
          kind: 'long_query',
          state: 'active',
          wait_event_type: 'Lock',
          wait_event: 'advisory',
          query: '<redacted: may contain a password>',
        });
        const mixedRow = byPid.get(mixed.pid);
        expect(mixedRow, label).toMatchObject({ kind: 'long_transaction', query: 'SELECT ?' });
        expect(mixedRow!.state_age_seconds as number).toBeLessThan(threshold);
        // Neither in a transaction nor running: a session-level advisory lock is not listed.
        expect(byPid.has(holder.pid)).toBe(false);
        for (const row of rows) expect((row.query as string).length).toBeLessThanOrEqual(2048);
      }
      // The shipped threshold (60 s) lists none of these young sessions.
      const shipped = expectSuccess(await runProbe(suOnA, pgLongRunningSessions));
      const ours = [idle, blocked, mixed].map((c) => c.pid);
      expect(shipped.filter((r) => ours.includes(r.pid as number))).toEqual([]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      expect(await stuck).toBe('completed');
    }
  });

  it('rejects a threshold that is not a number of seconds', () => {
    expect(() => longRunningSessionsProbe(Number.NaN)).toThrow(/threshold/);
    expect(() => longRunningSessionsProbe(-1)).toThrow(/threshold/);
  });
});

describe('progress probes', () => {
  it('pg_stat_progress_vacuum shows a VACUUM slowed by cost-based delay', async () => {
    const worker = await session();
    const observer = await session();
    // 100 ms after every page: the 300-odd pages take half a minute, until cancelled.
    await worker.query('SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1');
    const vacuum = outcome(worker.query(`VACUUM (DISABLE_PAGE_SKIPPING) ${TABLE}`));
    try {
      await waitFor('VACUUM progress', () =>
        hasRow(observer, 'pg_stat_progress_vacuum', worker.pid, 'scanning heap'),
      );
      for (const [label, row] of await rowsForPid(pgStatProgressVacuum, worker.pid)) {
        expect(row, label).toMatchObject({
          datname: FIXTURES.database,
          relname: TABLE,
          phase: 'scanning heap',
        });
        expect(Number.isInteger(row.relid) && (row.relid as number) > 0).toBe(true);
        expect(Number.isInteger(row.datid)).toBe(true);
        expect(row.heap_blks_total as number).toBeGreaterThan(0);
        expectDuration(row);
        if (major >= 17) {
          expect(row).toHaveProperty('max_dead_tuple_bytes');
          expect(row).toHaveProperty('num_dead_item_ids');
          expect(row).not.toHaveProperty('max_dead_tuples');
        } else {
          expect(row).toHaveProperty('max_dead_tuples');
          expect(row).not.toHaveProperty('dead_tuple_bytes');
        }
        expect(Object.hasOwn(row, 'delay_time')).toBe(major >= 18);
      }
    } finally {
      await observer.query('SELECT pg_cancel_backend($1)', [worker.pid]);
      expect(await vacuum).toMatch(/cancel/);
    }
  });

  it('pg_stat_progress_analyze shows a throttled ANALYZE (PostgreSQL 13+)', async () => {
    if (major < 13) {
      expectUnavailable(await runProbe(suOnA, pgStatProgressAnalyze), /PostgreSQL 13/);
      return;
    }
    const worker = await session();
    const observer = await session();
    await worker.query('SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1');
    const analyze = outcome(worker.query(`ANALYZE ${TABLE}`));
    try {
      await waitFor('ANALYZE progress', () =>
        hasRow(observer, 'pg_stat_progress_analyze', worker.pid, 'acquiring sample rows'),
      );
      for (const [label, row] of await rowsForPid(pgStatProgressAnalyze, worker.pid)) {
        expect(row, label).toMatchObject({
          datname: FIXTURES.database,
          relname: TABLE,
          phase: 'acquiring sample rows',
          current_child_table_relid: 0,
        });
        expect(row.sample_blks_total as number).toBeGreaterThan(0);
        expect(Object.hasOwn(row, 'delay_time')).toBe(major >= 18);
        expectDuration(row);
      }
    } finally {
      await observer.query('SELECT pg_cancel_backend($1)', [worker.pid]);
      expect(await analyze).toMatch(/cancel/);
    }
  });

  it('pg_stat_progress_create_index shows CREATE INDEX CONCURRENTLY waiting for a writer', async () => {
    const writer = await session();
    const builder = await session();
    const observer = await session();
    await writer.query(`BEGIN; INSERT INTO ${TABLE} VALUES (0, 'held')`);
    const build = outcome(builder.query(`CREATE INDEX CONCURRENTLY work_v_idx ON ${TABLE} (v)`));
    try {
      await waitFor('CREATE INDEX progress', () =>
        hasRow(
          observer,
          'pg_stat_progress_create_index',
          builder.pid,
          'waiting for writers before build',
        ),
      );
      for (const [label, row] of await rowsForPid(pgStatProgressCreateIndex, builder.pid)) {
        expect(row, label).toMatchObject({
          datname: FIXTURES.database,
          relname: TABLE,
          command: 'CREATE INDEX CONCURRENTLY',
          phase: 'waiting for writers before build',
          current_locker_pid: writer.pid,
          lockers_total: 1,
        });
        expect(row.index_relid as number).toBeGreaterThan(0);
        expectDuration(row);
      }
    } finally {
      await observer.query('SELECT pg_cancel_backend($1)', [builder.pid]);
      expect(await build).toMatch(/cancel/);
      await writer.query('ROLLBACK');
      // The cancelled build leaves an invalid index behind.
      await observer.query(`DROP INDEX IF EXISTS ${SCHEMA}.work_v_idx`);
    }
  });

  it('pg_stat_progress_cluster runs and is empty when nothing is clustering', async () => {
    // CLUSTER and VACUUM FULL cannot be slowed down or held mid-way (no cost delay, and the
    // only wait before the progress row is on an ACCESS EXCLUSIVE lock, which would stall every
    // other test reading that table), so only the empty case is deterministic here.
    for (const [, url] of ROLES) {
      if (url === '') continue;
      expect(expectSuccess(await runProbe(url, pgStatProgressCluster))).toEqual([]);
    }
  });

  it('pg_stat_progress_basebackup shows a rate-limited BASE_BACKUP (PostgreSQL 13+)', async ({
    skip,
  }) => {
    if (major < 13) {
      expectUnavailable(await runProbe(suOnA, pgStatProgressBasebackup), /PostgreSQL 13/);
      return;
    }
    const observer = await session();
    let sender: Session;
    try {
      sender = await session({ replication: 'database' } as pg.ClientConfig);
    } catch (err) {
      skip(`no replication connection on this server: ${(err as Error).message}`);
      return;
    }
    // 32 kB/s, the lowest rate: the backup streams for minutes, until terminated.
    const command =
      major >= 15
        ? "BASE_BACKUP (LABEL 'pgql probe test', PROGRESS true, CHECKPOINT 'fast', MAX_RATE 32)"
        : "BASE_BACKUP LABEL 'pgql probe test' PROGRESS FAST MAX_RATE 32";
    const backup = outcome(sender.query(command));
    try {
      await waitFor('BASE_BACKUP progress', () =>
        hasRow(observer, 'pg_stat_progress_basebackup', sender.pid, 'streaming database files'),
      );
      for (const [label, row] of await rowsForPid(pgStatProgressBasebackup, sender.pid)) {
        expect(row.phase, label).toBe('streaming database files');
        expect(row.backup_total as number).toBeGreaterThan(0);
        expect(row.tablespaces_total as number).toBeGreaterThanOrEqual(1);
        expect(row).not.toHaveProperty('relname');
        expectDuration(row);
      }
    } finally {
      await observer.query('SELECT pg_terminate_backend($1)', [sender.pid]);
      expect(await backup).toMatch(/terminat/);
    }
  });

  it('pg_stat_progress_copy shows a COPY TO held by an advisory lock (PostgreSQL 14+)', async () => {
    if (major < 14) {
      expectUnavailable(await runProbe(suOnA, pgStatProgressCopy), /PostgreSQL 14/);
      return;
    }
    const holder = await session();
    const copier = await session();
    const observer = await session();
    await holder.query('SELECT pg_advisory_lock($1)', [COPY_KEY]);
    const copy = outcome(copier.query(`COPY (SELECT pg_advisory_lock(${COPY_KEY})) TO STDOUT`));
    try {
      await waitFor('COPY progress', () => hasRow(observer, 'pg_stat_progress_copy', copier.pid));
      for (const [label, row] of await rowsForPid(pgStatProgressCopy, copier.pid)) {
        // A query's COPY has no relation, so no name either.
        expect(row, label).toMatchObject({
          datname: FIXTURES.database,
          command: 'COPY TO',
          type: 'PIPE',
          relid: 0,
          relname: null,
          tuples_processed: 0,
        });
        expect(Object.hasOwn(row, 'tuples_skipped')).toBe(major >= 17);
        expectDuration(row);
      }
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [COPY_KEY]);
      expect(await copy).toBe('completed');
    }
  });

  it('name the relation only when connected to its database', async () => {
    // From the postgres database a relation of pgql_test_a cannot be named: relname is NULL.
    const worker = await session();
    const observer = await session();
    await worker.query('SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1');
    const vacuum = outcome(worker.query(`VACUUM (DISABLE_PAGE_SKIPPING) ${TABLE}`));
    try {
      await waitFor('VACUUM progress', () =>
        hasRow(observer, 'pg_stat_progress_vacuum', worker.pid, 'scanning heap'),
      );
      const rows = expectSuccess(await runProbe(pgUrl, pgStatProgressVacuum));
      const row = rows.find((r) => r.pid === worker.pid);
      expect(row).toMatchObject({ datname: FIXTURES.database, relname: null });
      expect(row!.relid as number).toBeGreaterThan(0);
    } finally {
      await observer.query('SELECT pg_cancel_backend($1)', [worker.pid]);
      await vacuum;
    }
  });
});
