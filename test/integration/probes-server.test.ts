import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { SERVER_PROBES } from '../../src/collectors/probes/catalog-server.js';
import { columnApplies, type ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import { pgConnectivity } from '../../src/collectors/probes/pg-connectivity.js';
import { pgDatabase } from '../../src/collectors/probes/pg-database.js';
import { pgHbaFileRules } from '../../src/collectors/probes/pg-hba-file-rules.js';
import { pgIdentFileMappings } from '../../src/collectors/probes/pg-ident-file-mappings.js';
import { pgNodeRole } from '../../src/collectors/probes/pg-node-role.js';
import { pgReplicationLag } from '../../src/collectors/probes/pg-replication-lag.js';
import { pgReplicationSlots } from '../../src/collectors/probes/pg-replication-slots.js';
import { pgServerInfo } from '../../src/collectors/probes/pg-server-info.js';
import { pgStatActivity } from '../../src/collectors/probes/pg-stat-activity.js';
import { pgStatBgwriter } from '../../src/collectors/probes/pg-stat-bgwriter.js';
import { pgStatCheckpointer } from '../../src/collectors/probes/pg-stat-checkpointer.js';
import { pgStatConnectionSecurity } from '../../src/collectors/probes/pg-stat-connection-security.js';
import { pgStatIo } from '../../src/collectors/probes/pg-stat-io.js';
import { pgStatRecoveryPrefetch } from '../../src/collectors/probes/pg-stat-recovery-prefetch.js';
import { pgStatReplication } from '../../src/collectors/probes/pg-stat-replication.js';
import { pgStatSlru } from '../../src/collectors/probes/pg-stat-slru.js';
import { pgStatSubscription } from '../../src/collectors/probes/pg-stat-subscription.js';
import { pgStatWal } from '../../src/collectors/probes/pg-stat-wal.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import type { QuerySession } from '../../src/core/target-connector.js';
import { FIXTURES } from '../helpers/probe-fixtures.js';
import { runProbe, runProbes, type ProbeRun } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');
const skippedFixtures = inject('skippedFixtures');
const hasLogicalSlot = !skippedFixtures.some((s) => s.startsWith('logical slot'));
const hasSubscription = !skippedFixtures.includes('subscription');

const LSN = /^[0-9A-F]+\/[0-9A-F]+$/;
const IDLE_APP = 'pgql_server_probe_idle';
const STANDBY_APP = 'pgql_server_probe_standby';
const SECRET = 'pgql-server-probe-secret';

/** The roles the probes are run as; the pg_monitor one only where it could be created. */
const ROLES = [
  ['superuser', pgUrl],
  ['pg_monitor role', monitorUrl],
] as const;

function urlFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

function expectSuccess(run: ProbeRun): readonly ProbeRow[] {
  expect(run.statuses).toHaveLength(1);
  expect(run.statuses[0]?.success, run.statuses[0]?.error).toBe(true);
  return run.rows;
}

async function rowsOf(url: string, probe: ProbeCollector): Promise<readonly ProbeRow[]> {
  return expectSuccess(await runProbe(url, probe));
}

async function oneRow(url: string, probe: ProbeCollector): Promise<ProbeRow> {
  const rows = await rowsOf(url, probe);
  expect(rows).toHaveLength(1);
  return rows[0] as ProbeRow;
}

/** The reason the probe was skipped; fails when it ran. */
async function reasonOf(url: string, probe: ProbeCollector): Promise<string> {
  const run = await runProbe(url, probe);
  expect(run.statuses).toHaveLength(1);
  expect(run.statuses[0]?.unavailable, `${probe.name} ran`).toBe(true);
  expect(run.rows).toEqual([]);
  return run.statuses[0]?.error ?? '';
}

function num(row: ProbeRow | undefined, column: string): number {
  const value = row?.[column];
  if (typeof value !== 'number') throw new Error(`${column} is ${JSON.stringify(value)}`);
  return value;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** µs since 2000-01-01, the replication protocol's clock. */
function pgNow(): bigint {
  return BigInt(Date.now() - Date.UTC(2000, 0, 1)) * 1000n;
}

function lsnToBigInt(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

interface FakeStandby {
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * A physical replica as the primary sees it: a walsender streaming from the current position,
 * to which one status update reports everything as written, flushed and replayed. No slot, so
 * the fixture slots stay untouched.
 */
async function startFakeStandby(): Promise<FakeStandby> {
  const config: pg.ClientConfig & { replication: boolean } = {
    connectionString: pgUrl,
    application_name: STANDBY_APP,
    replication: true,
  };
  const client = new pg.Client(config);
  // Ending the connection ends the walsender mid-stream; that is the point.
  client.on('error', () => undefined);
  await client.connect();
  const ident = await client.query<{ xlogpos: string }>('IDENTIFY_SYSTEM');
  const start = ident.rows[0]?.xlogpos ?? '0/0';
  // Settles only when the connection ends: the server streams until then.
  client.query(`START_REPLICATION PHYSICAL ${start}`).catch(() => undefined);
  const sender = (): Promise<pg.QueryResult<{ pid: number; state: string; write_lsn: string }>> =>
    withClient(pgUrl, (c) =>
      c.query(
        'SELECT pid, state, write_lsn::text FROM pg_stat_replication WHERE application_name = $1',
        [STANDBY_APP],
      ),
    );
  await waitFor(
    'the walsender to stream',
    async () => (await sender()).rows[0]?.state === 'streaming',
  );
  const position = lsnToBigInt(start);
  const status = Buffer.alloc(34);
  status.write('r', 0);
  status.writeBigUInt64BE(position, 1);
  status.writeBigUInt64BE(position, 9);
  status.writeBigUInt64BE(position, 17);
  status.writeBigInt64BE(pgNow(), 25);
  const connection = client.connection as unknown as { sendCopyFromChunk(b: Buffer): void };
  connection.sendCopyFromChunk(status);
  await waitFor('the status update', async () => (await sender()).rows[0]?.write_lsn === start);
  const pid = (await sender()).rows[0]?.pid ?? 0;
  return {
    pid,
    async stop() {
      await client.end();
      await waitFor('the walsender to exit', async () => (await sender()).rows.length === 0);
    },
  };
}

/**
 * Runs a probe on one known session, optionally with the SQL it would choose on a standby (run
 * here, on a primary), and returns its rows and that session's pid.
 */
async function collectDirect(
  probe: ProbeCollector,
  asStandby: boolean,
): Promise<{ rows: readonly ProbeRow[]; sessionPid: number }> {
  const connector = new PgTargetConnector(targetFor(pgUrl, { name: 'direct' }), silentLogger);
  try {
    return await connector.withSession(undefined, async (session) => {
      const [me] = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const used: QuerySession = {
        facts: { ...session.facts, isInRecovery: asStandby || session.facts.isInRecovery },
        query: (sql, params, options) => session.query(sql, params, options),
      };
      const out = await probe.collect({
        target: { name: 'direct', host: '127.0.0.1', port: 5432, labels: {} },
        session: used,
        databases: [],
        signal: new AbortController().signal,
        logger: silentLogger,
        startedAt: new Date(),
      });
      return { rows: out.probes?.flatMap((s) => s.rows) ?? [], sessionPid: me?.pid ?? 0 };
    });
  } finally {
    await connector.close();
  }
}

async function collectAsStandby(probe: ProbeCollector): Promise<readonly ProbeRow[]> {
  return (await collectDirect(probe, true)).rows;
}

describe(`server probes on PostgreSQL ${major}`, () => {
  it('return exactly the columns declared for this version', async () => {
    const runs = await runProbes(pgUrl, SERVER_PROBES);
    const problems: string[] = [];
    for (const probe of SERVER_PROBES) {
      const run = runs.get(probe.name);
      const status = run?.statuses[0];
      if (run === undefined || status === undefined) {
        problems.push(`${probe.name}: did not run`);
        continue;
      }
      if (status.unavailable === true) continue;
      if (!status.success) problems.push(`${probe.name}: ${status.error ?? '?'}`);
      const facts = { major } as Parameters<typeof columnApplies>[1];
      const expected = [
        ...new Set(
          probe.spec.columns
            .filter((c) => (c.when === undefined ? columnApplies(c, facts) : true))
            .map((c) => c.name),
        ),
      ];
      const conditional = new Set(
        probe.spec.columns.filter((c) => c.when !== undefined).map((c) => c.name),
      );
      for (const row of run.rows) {
        const got = Object.keys(row).filter((k) => !conditional.has(k));
        const want = expected.filter((k) => !conditional.has(k));
        if (JSON.stringify(got.sort()) !== JSON.stringify([...want].sort())) {
          problems.push(`${probe.name}: columns ${got.join(',')} instead of ${want.join(',')}`);
          break;
        }
      }
      const keys = run.rows.map((row) => JSON.stringify(probe.spec.key.map((k) => row[k])));
      if (new Set(keys).size !== keys.length) problems.push(`${probe.name}: duplicate keys`);
    }
    expect(problems).toEqual([]);
  });

  it('call pg_current_wal_lsn() in the SQL chosen for a standby only once promoted', () => {
    for (const probe of SERVER_PROBES) {
      if (probe.spec.sql === undefined) continue;
      const facts = {
        major,
        versionNum: major * 10_000,
        version: String(major),
        extensions: {},
        isInRecovery: true,
        hasPgMonitor: true,
        hasReadAllStats: true,
        isSuperuser: false,
        canReadHbaFileRules: true,
        canReadIdentFileMappings: true,
        database: 'postgres',
      };
      const sql = probe.spec.sql('*', { facts, databases: [] });
      // Allowed only in the ELSE of a CASE on pg_is_in_recovery(): never evaluated in recovery.
      const guarded = sql.replace(
        /CASE WHEN pg_is_in_recovery\(\)\s+THEN[^]*?ELSE pg_current_wal_lsn\(\) END/g,
        '',
      );
      expect(guarded, probe.name).not.toMatch(/pg_current_wal_lsn/);
    }
  });

  describe('pg_stat_activity', () => {
    const idle = new pg.Client({ connectionString: pgUrl, application_name: IDLE_APP });
    const chatty = new pg.Client({ connectionString: pgUrl, application_name: `${IDLE_APP}_2` });
    let idlePid = 0;
    let chattyPid = 0;

    beforeAll(async () => {
      await idle.connect();
      await chatty.connect();
      // An open transaction with an XID and a snapshot: what a DBA hunts for.
      await idle.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      idlePid = (await idle.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid as number;
      await idle.query('SELECT txid_current()');
      chattyPid = (await chatty.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid as number;
      await chatty.query(`SELECT 'the password is ${SECRET}' AS x`);
    });

    afterAll(async () => {
      await idle.end();
      await chatty.end();
    });

    for (const [label, url] of ROLES) {
      it(`shows an idle-in-transaction session with its ages, as the ${label}`, async ({
        skip,
      }) => {
        if (url === '') skip('no pg_monitor role');
        const rows = await rowsOf(url, pgStatActivity);
        const row = rows.find((r) => r.pid === idlePid);
        expect(row).toMatchObject({
          application_name: IDLE_APP,
          state: 'idle in transaction',
          datname: 'postgres',
          usename: 'postgres',
          client_addr: '127.0.0.1',
          backend_type: 'client backend',
          query: 'SELECT txid_current()',
        });
        expect(row?.backend_xid).toMatch(/^\d+$/);
        expect(row?.backend_xmin).toMatch(/^\d+$/);
        expect(num(row, 'xact_age_seconds')).toBeGreaterThan(0);
        expect(num(row, 'state_age_seconds')).toBeGreaterThanOrEqual(0);
        expect(num(row, 'xact_age_seconds')).toBeGreaterThanOrEqual(num(row, 'state_age_seconds'));
        expect(num(row, 'query_age_seconds')).toBeGreaterThanOrEqual(0);
        if (major >= 14) expect(row?.query_id).toMatch(/^-?\d+$/);
        else expect(row).not.toHaveProperty('query_id');
        if (major >= 13) expect(row).toHaveProperty('leader_pid', null);
        // Background processes are listed too.
        expect(rows.some((r) => r.backend_type === 'checkpointer')).toBe(true);
      });
    }

    it('leaves out the session it runs on', async () => {
      const { rows, sessionPid } = await collectDirect(pgStatActivity, false);
      expect(sessionPid).toBeGreaterThan(0);
      expect(rows.some((r) => r.pid === idlePid)).toBe(true);
      expect(rows.some((r) => r.pid === sessionPid)).toBe(false);
    });

    it('redacts statement texts that may hold a password', async () => {
      const rows = await rowsOf(pgUrl, pgStatActivity);
      const row = rows.find((r) => r.pid === chattyPid);
      expect(row?.query).toBe('<redacted: may contain a password>');
      expect(JSON.stringify(rows)).not.toContain(SECRET);
    });

    it('keeps statement texts within 2048 characters', async () => {
      await chatty.query(`SELECT ${'a.b + '.repeat(1000)}1 FROM (SELECT 1 AS b) a`);
      const rows = await rowsOf(pgUrl, pgStatActivity);
      const query = rows.find((r) => r.pid === chattyPid)?.query;
      // The server itself keeps track_activity_query_size bytes (1 kB by default).
      expect(query).toMatch(/^SELECT a\.b \+ a\.b \+ /);
      expect(String(query).length).toBeLessThanOrEqual(2048);
    });

    it('shows statement texts without their literals and comments', async () => {
      await chatty.query(`/* ticket 4711 */ SELECT 'private-literal' AS v, 42 AS n`);
      const rows = await rowsOf(pgUrl, pgStatActivity);
      const query = String(rows.find((r) => r.pid === chattyPid)?.query);
      expect(query).toBe('SELECT ? AS v, ? AS n');
    });
  });

  describe('pg_stat_connection_security', () => {
    it('lists client connections with their (absent) encryption, not background processes', async () => {
      await withClient(pgUrl, async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        for (const [, url] of ROLES) {
          if (url === '') continue;
          const rows = await rowsOf(url, pgStatConnectionSecurity);
          const row = rows.find((r) => r.pid === pid);
          // The test server listens without TLS or GSSAPI.
          expect(row).toMatchObject({
            usename: 'postgres',
            datname: 'postgres',
            backend_type: 'client backend',
            ssl: false,
            gss_authenticated: false,
            gss_encrypted: false,
          });
          if (major <= 13) expect(row).toHaveProperty('compression', null);
          else expect(row).not.toHaveProperty('compression');
          if (major >= 16) expect(row).toHaveProperty('credentials_delegated', false);
          expect(rows.every((r) => r.backend_type !== 'checkpointer')).toBe(true);
        }
      });
    });
  });

  describe('replication probes with no replica attached', () => {
    it('pg_node_role calls a server with only a disabled subscription standalone', async () => {
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const row = await oneRow(url, pgNodeRole);
        // Publications are per database: the target's database (postgres) has none.
        expect(row).toMatchObject({
          primary_role: 'standalone',
          role_flags: '["standalone"]',
          is_in_recovery: false,
          timeline_id: 1,
          binary_standby_count: 0,
          is_streaming_standby: false,
          upstream_host: null,
          publication_count: 0,
          active_subscription_count: 0,
          active_logical_slot_count: 0,
        });
        if (hasSubscription) expect(num(row, 'subscription_count')).toBeGreaterThanOrEqual(1);
        if (hasLogicalSlot) expect(num(row, 'logical_slot_count')).toBeGreaterThanOrEqual(1);
        expect(Date.parse(String(row.postmaster_start_time))).toBeLessThanOrEqual(Date.now());
      }
    });

    it('pg_node_role calls it a logical publisher on the database with the publication', async () => {
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const row = await oneRow(urlFor(url, FIXTURES.database), pgNodeRole);
        expect(row).toMatchObject({
          primary_role: 'logical_publisher',
          role_flags: '["logical_publisher"]',
        });
        expect(num(row, 'publication_count')).toBeGreaterThanOrEqual(1);
      }
    });
  });

  describe('replication probes with a streaming replica', () => {
    let standby: FakeStandby;

    beforeAll(async () => {
      standby = await startFakeStandby();
    });

    afterAll(async () => {
      await standby.stop();
    });

    for (const [label, url] of ROLES) {
      it(`pg_stat_replication shows the replica with positions and byte lags, as the ${label}`, async ({
        skip,
      }) => {
        if (url === '') skip('no pg_monitor role');
        const rows = await rowsOf(url, pgStatReplication);
        const row = rows.find((r) => r.pid === standby.pid);
        expect(row).toMatchObject({
          role: 'primary',
          application_name: STANDBY_APP,
          usename: 'postgres',
          client_addr: '127.0.0.1',
          state: 'streaming',
          sync_state: 'async',
          receiver_pid: null,
          receiver_status: null,
        });
        for (const column of ['sent_lsn', 'write_lsn', 'flush_lsn', 'replay_lsn']) {
          expect(row?.[column], column).toMatch(LSN);
        }
        for (const column of ['sent_lag_bytes', 'write_lag_bytes', 'flush_lag_bytes']) {
          expect(num(row, column), column).toBeGreaterThanOrEqual(0);
        }
        expect(num(row, 'write_lag_bytes')).toBeGreaterThanOrEqual(num(row, 'sent_lag_bytes'));
        expect(Date.parse(String(row?.reply_time))).not.toBeNaN();
        expect(rows.every((r) => r.role === 'primary')).toBe(true);
      });
    }

    it('pg_replication_lag gives bytes behind per replica', async () => {
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const rows = await rowsOf(url, pgReplicationLag);
        const row = rows.find((r) => r.pid === standby.pid);
        expect(row).toMatchObject({
          role: 'primary',
          application_name: STANDBY_APP,
          client_addr: '127.0.0.1',
          state: 'streaming',
          sync_state: 'async',
          replay_delay_seconds: null,
        });
        expect(row?.receive_lsn).toMatch(LSN);
        expect(row?.replay_lsn).toMatch(LSN);
        for (const column of ['sent_lag_bytes', 'write_lag_bytes', 'flush_lag_bytes']) {
          expect(num(row, column), column).toBeGreaterThanOrEqual(0);
        }
        expect(num(row, 'replay_lag_bytes')).toBeGreaterThanOrEqual(num(row, 'flush_lag_bytes'));
      }
    });

    it('pg_node_role counts the replica and calls the server a binary primary', async () => {
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const row = await oneRow(url, pgNodeRole);
        expect(row.primary_role).toBe('binary_primary');
        expect(JSON.parse(String(row.role_flags))).toEqual(['binary_primary']);
        expect(num(row, 'binary_standby_count')).toBeGreaterThanOrEqual(1);
      }
    });
  });

  describe('the SQL chosen for a standby (run here, where nothing is received)', () => {
    it('pg_stat_replication adds one receiver row keyed pid 0', async () => {
      const rows = await collectAsStandby(pgStatReplication);
      const standbyRows = rows.filter((r) => r.role === 'standby');
      expect(standbyRows).toHaveLength(1);
      expect(standbyRows[0]).toMatchObject({
        pid: 0,
        receiver_pid: null,
        receiver_status: null,
        receiver_flushed_lsn: null,
        sent_lag_bytes: null,
      });
      if (major >= 13) expect(standbyRows[0]).toHaveProperty('written_lsn', null);
      else expect(standbyRows[0]).not.toHaveProperty('written_lsn');
    });

    it('pg_replication_lag adds the row of the standby itself', async () => {
      const rows = await collectAsStandby(pgReplicationLag);
      expect(rows.filter((r) => r.role === 'standby')).toEqual([
        expect.objectContaining({ application_name: 'self', pid: 0, receive_lsn: null }),
      ]);
    });

    it('the WAL position follows a promotion: the standby SQL on a primary reads its WAL', async () => {
      const [wal] = await collectAsStandby(pgStatWal);
      expect(wal?.current_wal_lsn).toMatch(LSN);
      expect(wal?.wal_lsn_bytes).toBeGreaterThan(0);
      const slots = await collectAsStandby(pgReplicationSlots);
      const physical = slots.find((s) => s.slot_name === FIXTURES.physicalSlot);
      expect(physical?.retained_bytes).toBeGreaterThanOrEqual(0);
      const [role] = await collectAsStandby(pgNodeRole);
      expect(role).toMatchObject({ is_in_recovery: false, received_lsn: null });
    });
  });

  describe('pg_replication_slots', () => {
    beforeAll(async () => {
      if (!hasLogicalSlot) return;
      // The fixture decodes right after its insert, which synchronous_commit=off may not have
      // flushed yet; decode a flushed transaction (peeking: the slot does not move) so the slot
      // surely has decoding statistics. Its own table, so other tests' counts stay the same.
      await withClient(urlFor(pgUrl, FIXTURES.database), async (c) => {
        await c.query('SET synchronous_commit = on');
        await c.query('CREATE TABLE public.pgql_server_probe_decoded (i int)');
        await c.query('INSERT INTO public.pgql_server_probe_decoded VALUES (1)');
        await c.query('DROP TABLE public.pgql_server_probe_decoded');
        await c.query('SELECT count(*) FROM pg_logical_slot_peek_changes($1, NULL, NULL)', [
          FIXTURES.logicalSlot,
        ]);
      });
    });

    for (const [label, url] of ROLES) {
      it(`lists the fixture slots with retained WAL, as the ${label}`, async ({ skip }) => {
        if (url === '') skip('no pg_monitor role');
        const rows = await rowsOf(url, pgReplicationSlots);
        const physical = rows.find((r) => r.slot_name === FIXTURES.physicalSlot);
        expect(physical).toMatchObject({
          slot_type: 'physical',
          plugin: null,
          database: null,
          temporary: false,
          active: false,
          slot_xmin: null,
          xmin_age: null,
        });
        expect(physical?.restart_lsn).toMatch(LSN);
        expect(num(physical, 'retained_bytes')).toBeGreaterThanOrEqual(0);
        if (major >= 13) expect(physical).toHaveProperty('wal_status', 'reserved');
        else expect(physical).not.toHaveProperty('wal_status');
        if (!hasLogicalSlot) return;
        const logical = rows.find((r) => r.slot_name === FIXTURES.logicalSlot);
        expect(logical).toMatchObject({
          slot_type: 'logical',
          plugin: 'test_decoding',
          database: FIXTURES.database,
        });
        expect(logical?.catalog_xmin).toMatch(/^\d+$/);
        expect(num(logical, 'catalog_xmin_age')).toBeGreaterThanOrEqual(0);
        expect(logical?.confirmed_flush_lsn).toMatch(LSN);
        expect(num(logical, 'retained_bytes')).toBeGreaterThanOrEqual(0);
        if (major >= 14) {
          // Slot statistics reach the view asynchronously.
          await waitFor('decoding statistics', async () => {
            const again = await rowsOf(url, pgReplicationSlots);
            const slot = again.find((r) => r.slot_name === FIXTURES.logicalSlot);
            return num(slot, 'total_txns') >= 1 && num(slot, 'total_bytes') > 0;
          });
        } else expect(logical).not.toHaveProperty('total_txns');
        if (major >= 17) expect(logical).toHaveProperty('synced', false);
      });
    }
  });

  describe('pg_stat_subscription', () => {
    it('lists the disabled fixture subscription with no worker (pid 0)', async ({ skip }) => {
      if (!hasSubscription) skip('no subscription fixture');
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const rows = await rowsOf(url, pgStatSubscription);
        const row = rows.find((r) => r.subname === FIXTURES.subscription);
        expect(row).toMatchObject({ pid: 0, relid: null, received_lsn: null });
        if (major >= 14) expect(row).toHaveProperty('enabled', false);
        else expect(row).not.toHaveProperty('enabled');
        expect(num(row, 'subid')).toBeGreaterThan(0);
        if (major >= 15) {
          expect(row).toMatchObject({ apply_error_count: 0, sync_error_count: 0 });
        } else expect(row).not.toHaveProperty('apply_error_count');
        if (major >= 18) expect(row).toHaveProperty('confl_insert_exists', 0);
      }
    });
  });

  describe('version-gated statistics views', () => {
    it(`pg_stat_io ${major >= 16 ? 'has I/O rows' : 'is unavailable before 16'}`, async () => {
      if (major < 16) {
        expect(await reasonOf(pgUrl, pgStatIo)).toMatch(/PostgreSQL 16/);
        return;
      }
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const rows = await rowsOf(url, pgStatIo);
        const row = rows.find(
          (r) =>
            r.backend_type === 'client backend' &&
            r.object === 'relation' &&
            r.context === 'normal',
        );
        expect(num(row, 'hits')).toBeGreaterThan(0);
        if (major <= 17) expect(row).toHaveProperty('op_bytes', 8192);
        else expect(num(row, 'read_bytes')).toBeGreaterThanOrEqual(0);
        if (major >= 18) expect(rows.some((r) => r.object === 'wal')).toBe(true);
      }
    });

    it(`pg_stat_slru ${major >= 13 ? 'has one row per cache' : 'is unavailable before 13'}`, async () => {
      if (major < 13) {
        expect(await reasonOf(pgUrl, pgStatSlru)).toMatch(/PostgreSQL 13/);
        return;
      }
      const rows = await rowsOf(monitorUrl === '' ? pgUrl : monitorUrl, pgStatSlru);
      expect(rows.length).toBeGreaterThanOrEqual(7);
      expect(rows.map((r) => String(r.name).toLowerCase())).toContain('other');
      // Transaction status lookups go through the commit log cache.
      expect(rows.some((r) => num(r, 'blks_hit') > 0)).toBe(true);
    });

    it(`pg_stat_recovery_prefetch ${major >= 15 ? 'has its row' : 'is unavailable before 15'}`, async () => {
      if (major < 15) {
        expect(await reasonOf(pgUrl, pgStatRecoveryPrefetch)).toMatch(/PostgreSQL 15/);
        return;
      }
      const row = await oneRow(pgUrl, pgStatRecoveryPrefetch);
      expect(num(row, 'prefetch')).toBeGreaterThanOrEqual(0);
      expect(num(row, 'io_depth')).toBeGreaterThanOrEqual(0);
    });
  });

  describe('checkpoints, background writer and WAL', () => {
    it('pg_stat_checkpointer counts a requested checkpoint under the PG17 names', async () => {
      await withClient(pgUrl, (c) => c.query('CHECKPOINT'));
      let row: ProbeRow | undefined;
      // Before 15 the statistics collector receives counters asynchronously.
      await waitFor('the checkpoint to be counted', async () => {
        row = await oneRow(monitorUrl === '' ? pgUrl : monitorUrl, pgStatCheckpointer);
        return num(row, 'num_requested') >= 1;
      });
      expect(num(row, 'num_timed')).toBeGreaterThanOrEqual(0);
      expect(num(row, 'buffers_written')).toBeGreaterThanOrEqual(0);
      expect(num(row, 'write_time')).toBeGreaterThanOrEqual(0);
      expect(num(row, 'sync_time')).toBeGreaterThanOrEqual(0);
      if (major >= 17) expect(num(row, 'restartpoints_done')).toBe(0);
      else expect(row).not.toHaveProperty('restartpoints_done');
      if (major >= 18) expect(num(row, 'num_done')).toBeGreaterThanOrEqual(1);
      else expect(row).not.toHaveProperty('num_done');
    });

    it('pg_stat_bgwriter has the writer counters, and the checkpoint ones until 16', async () => {
      const row = await oneRow(pgUrl, pgStatBgwriter);
      expect(num(row, 'buffers_alloc')).toBeGreaterThan(0);
      expect(num(row, 'maxwritten_clean')).toBeGreaterThanOrEqual(0);
      if (major <= 16) {
        expect(num(row, 'checkpoints_req')).toBeGreaterThanOrEqual(0);
        expect(num(row, 'buffers_backend')).toBeGreaterThanOrEqual(0);
      } else {
        expect(row).not.toHaveProperty('checkpoints_req');
        expect(row).not.toHaveProperty('buffers_backend');
      }
    });

    it('pg_stat_wal has the WAL position on every version and pg_stat_wal from 14', async () => {
      for (const [, url] of ROLES) {
        if (url === '') continue;
        const row = await oneRow(url, pgStatWal);
        expect(row.current_wal_lsn).toMatch(LSN);
        expect(num(row, 'wal_lsn_bytes')).toBe(Number(lsnToBigInt(String(row.current_wal_lsn))));
        expect(num(row, 'archived_count')).toBe(0);
        expect(row).toHaveProperty('archiver_stats_reset');
        if (major >= 14) {
          expect(num(row, 'wal_records')).toBeGreaterThan(0);
          expect(num(row, 'wal_bytes')).toBeGreaterThan(0);
        } else expect(row).not.toHaveProperty('wal_records');
        if (major >= 14 && major <= 17) expect(num(row, 'wal_write')).toBeGreaterThan(0);
        else expect(row).not.toHaveProperty('wal_write');
      }
    });
  });

  describe('authentication files', () => {
    it('pg_hba_file_rules lists the rules as superuser, with arrays as JSON', async () => {
      const rows = await rowsOf(pgUrl, pgHbaFileRules);
      expect(rows.length).toBeGreaterThan(0);
      const host = rows.find((r) => r.type === 'host' && r.address === '127.0.0.1');
      expect(host).toMatchObject({ auth_method: 'scram-sha-256', error: null });
      expect(JSON.parse(String(host?.database))).toEqual(['all']);
      expect(JSON.parse(String(host?.user_name))).toEqual(['all']);
      expect(String(host?.file_name)).toMatch(/pg_hba\.conf$/);
      expect(num(host, 'rule_number')).toBeGreaterThan(0);
      if (major < 16) expect(host?.rule_number).toBe(host?.line_number);
    });

    it('pg_hba_file_rules is unavailable to the pg_monitor role, saying why', async ({ skip }) => {
      if (monitorUrl === '') skip('no pg_monitor role');
      expect(await reasonOf(monitorUrl, pgHbaFileRules)).toMatch(/superuser.*pg_hba_file_rules/);
    });

    it(`pg_ident_file_mappings ${major >= 15 ? 'reads the (empty) map file' : 'needs 15'}`, async () => {
      if (major < 15) {
        expect(await reasonOf(pgUrl, pgIdentFileMappings)).toMatch(/PostgreSQL 15/);
        return;
      }
      // initdb's pg_ident.conf has comments only.
      expect(await rowsOf(pgUrl, pgIdentFileMappings)).toEqual([]);
      if (monitorUrl !== '') {
        expect(await reasonOf(monitorUrl, pgIdentFileMappings)).toMatch(/superuser/);
      }
    });
  });

  describe('server identity', () => {
    for (const [label, url] of ROLES) {
      it(`pg_server_info describes the server, as the ${label}`, async ({ skip }) => {
        if (url === '') skip('no pg_monitor role');
        const row = await oneRow(url, pgServerInfo);
        expect(Math.floor(num(row, 'server_version_num') / 10_000)).toBe(major);
        expect(String(row.server_version)).toMatch(new RegExp(`^${major}\\.`));
        expect(row.system_identifier).toMatch(/^\d+$/);
        // pg_monitor includes pg_read_all_settings.
        expect(String(row.data_directory)).toMatch(/data$/);
        expect(row).toMatchObject({
          cluster_name: null,
          server_encoding: 'UTF8',
          max_connections: 100,
          block_size: 8192,
          wal_segment_size: 16 * 1024 * 1024,
        });
        expect(num(row, 'max_wal_senders')).toBeGreaterThan(0);
        const extensions = JSON.parse(String(row.installed_extensions)) as string[];
        expect(extensions.some((e) => e.startsWith('plpgsql '))).toBe(true);
        expect(Date.parse(String(row.postmaster_start_time))).toBeLessThan(Date.now());
      });
    }

    it('pg_connectivity times a round trip', async () => {
      const row = await oneRow(pgUrl, pgConnectivity);
      expect(num(row, 'response_time_ms')).toBeGreaterThan(0);
      expect(num(row, 'response_time_ms')).toBeLessThan(5_000);
    });

    for (const [label, url] of ROLES) {
      it(`pg_database lists every database with XID age and size, as the ${label}`, async ({
        skip,
      }) => {
        if (url === '') skip('no pg_monitor role');
        const rows = await rowsOf(url, pgDatabase);
        const a = rows.find((r) => r.datname === FIXTURES.database);
        expect(a).toMatchObject({
          owner: 'postgres',
          encoding: 'UTF8',
          datistemplate: false,
          datallowconn: true,
          datconnlimit: -1,
          tablespace: 'pg_default',
        });
        expect(num(a, 'age_datfrozenxid')).toBeGreaterThan(0);
        expect(num(a, 'age_datminmxid')).toBeGreaterThanOrEqual(0);
        expect(num(a, 'database_size_bytes')).toBeGreaterThan(1_000_000);
        expect(num(a, 'wraparound_pct')).toBeGreaterThan(0);
        expect(num(a, 'wraparound_pct')).toBeLessThan(1);
        expect(a?.datfrozenxid).toMatch(/^\d+$/);
        if (major >= 15) expect(a?.datlocprovider).toBe('c');
        const template0 = rows.find((r) => r.datname === 'template0');
        expect(template0).toMatchObject({ datistemplate: true, datallowconn: false });
        expect(num(template0, 'database_size_bytes')).toBeGreaterThan(0);
      });
    }
  });
});
