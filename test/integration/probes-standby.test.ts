import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROBES } from '../../src/collectors/builtin-collectors.js';
import type { ProbeRow, ProbeValue } from '../../src/core/model/probe-sample.js';
import { DebianPostgres, debianReplicationSkipReason } from '../helpers/debian-postgres.js';
import { runProbes, type ProbeRun } from '../helpers/probe-run.js';
import { catalogProblems } from '../helpers/probe-types.js';

/**
 * The replication probes choose their SQL by whether the server is in recovery. Here they run
 * against a real streaming pair (Debian PostgreSQL 15: the embedded binaries have no
 * pg_basebackup), and every shipped probe must run on the hot standby, where functions such
 * as pg_current_wal_lsn() raise.
 */

const SLOT = 'pgql_standby_slot';
const MONITOR = { user: 'pgql_standby_monitor', password: 'standby-Monitor-1' };
const WORK_TABLE = 'standby_work';
/** Created after the base backup: the standby learns of it by streaming. */
const WORK_DB = 'pgql_standby_db';
const LSN = /^[0-9A-F]+\/[0-9A-F]+$/;

type Role = 'superuser' | 'pg_monitor';
type Server = 'primary' | 'standby';

/** An LSN ('16/B374D848') as a byte position. */
function lsnBytes(lsn: ProbeValue | undefined): bigint {
  if (typeof lsn !== 'string' || !LSN.test(lsn)) throw new Error(`not an LSN: ${String(lsn)}`);
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

function succeeded(runs: ReadonlyMap<string, ProbeRun>, name: string): ProbeRun {
  const run = runs.get(name);
  if (run === undefined) throw new Error(`${name} did not run`);
  expect(
    run.statuses.map((s) => s.error ?? 'ok'),
    name,
  ).toEqual(run.statuses.map(() => 'ok'));
  expect(run.statuses.length, name).toBeGreaterThan(0);
  return run;
}

function onlyRow(run: ProbeRun, match: Partial<ProbeRow> = {}): ProbeRow {
  const rows = run.rows.filter((r) => Object.entries(match).every(([k, v]) => r[k] === v));
  expect(rows, JSON.stringify(run.rows)).toHaveLength(1);
  return rows[0] as ProbeRow;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('probes on a Debian PostgreSQL 15 primary and its streaming standby', () => {
  let primary: DebianPostgres | undefined;
  let standby: DebianPostgres | undefined;
  let skipReason: string | undefined;
  /** The primary's WAL position after the test's writes; the standby has replayed it. */
  let writtenLsn = 0n;
  const runs = new Map<string, Promise<Map<string, ProbeRun>>>();

  function serverOf(server: Server): DebianPostgres {
    const s = server === 'primary' ? primary : standby;
    if (s === undefined) throw new Error(`no ${server}`);
    return s;
  }

  function urlOf(server: Server, role: Role, db = 'postgres'): string {
    const s = serverOf(server);
    return role === 'superuser' ? s.url(db) : s.url(db, MONITOR.user, MONITOR.password);
  }

  /** Every shipped probe, run once per server and role through the real runner. */
  function allRuns(server: Server, role: Role): Promise<Map<string, ProbeRun>> {
    const key = `${server}/${role}`;
    let result = runs.get(key);
    if (result === undefined) {
      result = runProbes(urlOf(server, role), BUILTIN_PROBES);
      runs.set(key, result);
    }
    return result;
  }

  async function waitFor(what: string, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    skipReason = debianReplicationSkipReason();
    if (skipReason !== undefined) return;
    primary = await DebianPostgres.start({ wal_level: 'replica', max_wal_senders: '4' });
    const p = primary;
    await query(
      p.url(),
      `CREATE EXTENSION pg_stat_statements;
       CREATE EXTENSION pg_stat_kcache;
       CREATE EXTENSION pg_wait_sampling;
       CREATE ROLE ${MONITOR.user} LOGIN PASSWORD '${MONITOR.password}' IN ROLE pg_monitor;
       SELECT pg_create_physical_replication_slot('${SLOT}');`,
    );
    standby = await DebianPostgres.startStandby(p, SLOT);
    const s = standby;
    // WAL written after the base backup, so it reaches the standby by streaming.
    await query(p.url(), `CREATE DATABASE ${WORK_DB}`);
    await query(
      p.url(),
      `CREATE TABLE ${WORK_TABLE} AS SELECT g AS id, md5(g::text) AS v
         FROM generate_series(1, 50000) g;
       CREATE INDEX ON ${WORK_TABLE} (id);`,
    );
    const [written] = await query<{ lsn: string }>(
      p.url(),
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    writtenLsn = lsnBytes(written?.lsn);
    await waitFor('the standby to replay the writes', async () => {
      const [row] = await query<{ replayed: string | null; status: string | null }>(
        s.url(),
        `SELECT pg_last_wal_replay_lsn()::text AS replayed,
                (SELECT status FROM pg_stat_wal_receiver) AS status`,
      );
      return (
        row?.status === 'streaming' && row.replayed !== null && lsnBytes(row.replayed) >= writtenLsn
      );
    });
    // The standby reports its replay position back; wait until the primary has seen it.
    await waitFor('the primary to see the standby streaming', async () => {
      const [row] = await query<{ replayed: string | null; state: string | null }>(
        p.url(),
        'SELECT state, replay_lsn::text AS replayed FROM pg_stat_replication',
      );
      return (
        row?.state === 'streaming' && row.replayed !== null && lsnBytes(row.replayed) >= writtenLsn
      );
    });
  }, 90_000);

  afterAll(async () => {
    // The standby first: stopping the primary first would leave it retrying the connection.
    await standby?.stop();
    await primary?.stop();
  });

  for (const role of ['superuser', 'pg_monitor'] as const) {
    describe(`as ${role}`, () => {
      it('primary: pg_stat_replication has the streaming replica with positions and lag', async ({
        skip,
      }) => {
        if (primary === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('primary', role), 'pg_stat_replication'));
        expect(row).toMatchObject({
          role: 'primary',
          state: 'streaming',
          usename: 'postgres',
          client_addr: '127.0.0.1',
          sync_state: 'async',
          receiver_status: null,
          sender_host: null,
        });
        expect(row.pid).toBeGreaterThan(0);
        for (const column of ['sent_lsn', 'write_lsn', 'flush_lsn', 'replay_lsn']) {
          expect(row[column], column).toMatch(LSN);
        }
        expect(lsnBytes(row.replay_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        for (const column of [
          'sent_lag_bytes',
          'write_lag_bytes',
          'flush_lag_bytes',
          'replay_lag_bytes',
        ]) {
          expect(row[column], column).toBeGreaterThanOrEqual(0);
        }
      });

      it('primary: pg_replication_lag has the replica', async ({ skip }) => {
        if (primary === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('primary', role), 'pg_replication_lag'));
        expect(row).toMatchObject({
          role: 'primary',
          application_name: 'walreceiver',
          client_addr: '127.0.0.1',
          state: 'streaming',
          replay_delay_seconds: null,
        });
        expect(row.pid).toBeGreaterThan(0);
        expect(row.receive_lsn).toMatch(LSN);
        expect(row.replay_lsn).toMatch(LSN);
        expect(row.replay_lag_bytes).toBeGreaterThanOrEqual(0);
        expect(row.sent_lag_bytes).toBeGreaterThanOrEqual(0);
      });

      it('primary: pg_replication_slots shows the standby slot active, retaining WAL', async ({
        skip,
      }) => {
        if (primary === undefined) return skip(skipReason);
        const run = succeeded(await allRuns('primary', role), 'pg_replication_slots');
        const row = onlyRow(run, { slot_name: SLOT });
        expect(row).toMatchObject({
          slot_type: 'physical',
          active: true,
          temporary: false,
          wal_status: 'reserved',
          plugin: null,
        });
        expect(row.active_pid).toBeGreaterThan(0);
        expect(row.restart_lsn).toMatch(LSN);
        expect(row.retained_bytes).toBeGreaterThanOrEqual(0);
      });

      it('primary: pg_node_role says binary_primary with one standby', async ({ skip }) => {
        if (primary === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('primary', role), 'pg_node_role'));
        expect(row).toMatchObject({
          primary_role: 'binary_primary',
          is_in_recovery: false,
          binary_standby_count: 1,
          is_streaming_standby: false,
          upstream_host: null,
          received_lsn: null,
        });
        expect(JSON.parse(String(row.role_flags))).toEqual(['binary_primary']);
      });

      it('standby: pg_stat_replication has the WAL receiver streaming from the primary', async ({
        skip,
      }) => {
        if (standby === undefined || primary === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('standby', role), 'pg_stat_replication'));
        expect(row).toMatchObject({
          role: 'standby',
          pid: 0,
          receiver_status: 'streaming',
          sender_host: '127.0.0.1',
          sender_port: primary.port,
          receiver_slot_name: SLOT,
          received_tli: 1,
          state: null,
          sent_lag_bytes: null,
        });
        expect(row.receiver_pid).toBeGreaterThan(0);
        expect(lsnBytes(row.receiver_flushed_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        expect(row.written_lsn).toMatch(LSN);
        expect(row.latest_end_lsn).toMatch(LSN);
        // The server masks the password -R wrote into primary_conninfo.
        expect(row.conninfo).toMatch(/port=\d+/);
        expect(row.conninfo).not.toContain(primary.password);
      });

      it("standby: pg_replication_lag has the standby's own receive-to-replay row", async ({
        skip,
      }) => {
        if (standby === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('standby', role), 'pg_replication_lag'));
        expect(row).toMatchObject({
          role: 'standby',
          application_name: 'self',
          state: 'streaming',
          sent_lag_bytes: null,
        });
        expect(row.pid).toBeGreaterThan(0);
        expect(lsnBytes(row.receive_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        expect(lsnBytes(row.replay_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        expect(row.replay_lag_bytes).toBeGreaterThanOrEqual(0);
        expect(row.replay_delay_seconds).toBeGreaterThanOrEqual(0);
      });

      it('standby: pg_node_role says binary_standby with its upstream', async ({ skip }) => {
        if (standby === undefined || primary === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('standby', role), 'pg_node_role'));
        expect(row).toMatchObject({
          primary_role: 'binary_standby',
          is_in_recovery: true,
          is_streaming_standby: true,
          binary_standby_count: 0,
          upstream_host: '127.0.0.1',
          upstream_port: primary.port,
        });
        expect(JSON.parse(String(row.role_flags))).toEqual(['binary_standby']);
        expect(lsnBytes(row.received_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        expect(lsnBytes(row.replayed_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        if (role === 'superuser') expect(row.timeline_id).toBe(1);
      });

      it('standby: pg_stat_wal reports the WAL position it received', async ({ skip }) => {
        if (standby === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('standby', role), 'pg_stat_wal'));
        expect(lsnBytes(row.current_wal_lsn)).toBeGreaterThanOrEqual(writtenLsn);
        expect(BigInt(Number(row.wal_lsn_bytes))).toBe(lsnBytes(row.current_wal_lsn));
        expect(typeof row.archived_count).toBe('number');
      });

      it('standby: pg_stat_recovery_prefetch returns its row', async ({ skip }) => {
        if (standby === undefined) return skip(skipReason);
        const row = onlyRow(succeeded(await allRuns('standby', role), 'pg_stat_recovery_prefetch'));
        for (const column of ['prefetch', 'hit', 'skip_init', 'skip_new', 'skip_fpw', 'skip_rep']) {
          expect(row[column], column).toBeGreaterThanOrEqual(0);
        }
        expect(typeof row.stats_reset).toBe('string');
      });

      it('standby: pg_stat_database_conflicts runs in every database', async ({ skip }) => {
        if (standby === undefined) return skip(skipReason);
        const run = succeeded(await allRuns('standby', role), 'pg_stat_database_conflicts');
        expect(run.statuses.map((s) => s.database).sort()).toEqual([WORK_DB, 'postgres']);
        for (const datname of [WORK_DB, 'postgres']) {
          const row = onlyRow(run, { datname });
          for (const column of ['confl_lock', 'confl_snapshot', 'confl_bufferpin']) {
            expect(row[column], `${datname}.${column}`).toBe(0);
          }
        }
      });

      it('standby: pg_replication_slots runs (slots are not copied to standbys)', async ({
        skip,
      }) => {
        if (standby === undefined) return skip(skipReason);
        const run = succeeded(await allRuns('standby', role), 'pg_replication_slots');
        expect(run.rows).toEqual([]);
      });

      for (const server of ['primary', 'standby'] as const) {
        it(`${server}: every shipped probe succeeds or is unavailable with a reason`, async ({
          skip,
        }) => {
          if (standby === undefined) return skip(skipReason);
          const all = await allRuns(server, role);
          expect(catalogProblems(all), `${server} as ${role}`).toEqual([]);
          // None silently missing: every shipped probe reported how it fared.
          expect(
            BUILTIN_PROBES.filter((p) => (all.get(p.name)?.statuses.length ?? 0) === 0),
          ).toEqual([]);
          // The standby's data is the primary's: the replicated table is visible there.
          const tables = all.get('pg_stat_all_tables');
          expect(tables?.rows.some((r) => r.relname === WORK_TABLE)).toBe(true);
        });
      }
    });
  }
});
