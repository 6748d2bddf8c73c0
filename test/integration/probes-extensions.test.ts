import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PgTargetConnector } from '../../src/collectors/connection/pg-target-connector.js';
import { unavailableReason } from '../../src/collectors/probes/define-probe.js';
import { pgStatKcache } from '../../src/collectors/probes/pg-stat-kcache.js';
import { pgWaitSamplingProfile } from '../../src/collectors/probes/pg-wait-sampling-profile.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import type { ServerFacts } from '../../src/core/server-facts.js';
import { DebianPostgres, debianPostgresSkipReason } from '../helpers/debian-postgres.js';
import { runProbe, type ProbeRun } from '../helpers/probe-run.js';
import { targetFor } from '../helpers/targets.js';

const pgUrl = inject('pgUrl');

const WORK_DB = 'kcache_work';
const OLD_KCACHE_DB = 'kcache_21';
const MONITOR = { user: 'pgql_ext_monitor', password: 'ext-Monitor-1' };
const PLAIN = { user: 'pgql_ext_plain', password: 'ext-Plain-1' };

function expectSuccess(run: ProbeRun): void {
  expect(run.statuses.map((s) => s.error ?? 'ok')).toEqual(['ok']);
}

function rowOf(run: ProbeRun, match: Partial<ProbeRow>): ProbeRow | undefined {
  return run.rows.find((r) => Object.entries(match).every(([k, v]) => r[k] === v));
}

describe('extension probes on Debian PostgreSQL 15', () => {
  let server: DebianPostgres | undefined;
  let skipReason: string | undefined;

  beforeAll(async () => {
    skipReason = debianPostgresSkipReason();
    if (skipReason !== undefined) return;
    server = await DebianPostgres.start();
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    try {
      await admin.query(`
        CREATE EXTENSION pg_stat_statements;
        CREATE EXTENSION pg_stat_kcache;
        CREATE EXTENSION pg_wait_sampling;
        CREATE ROLE ${MONITOR.user} LOGIN PASSWORD '${MONITOR.password}' IN ROLE pg_monitor;
        CREATE ROLE ${PLAIN.user} LOGIN PASSWORD '${PLAIN.password}';`);
      // One statement each: CREATE DATABASE refuses to share a (multi-statement) transaction.
      await admin.query(`CREATE DATABASE ${WORK_DB}`);
      await admin.query(`CREATE DATABASE ${OLD_KCACHE_DB}`);
    } finally {
      await admin.end();
    }
    // 2.1 had no planning counters and unprefixed names; the packaged library still serves it.
    const old = new pg.Client({ connectionString: server.url(OLD_KCACHE_DB) });
    await old.connect();
    await old.query(`CREATE EXTENSION pg_stat_statements;
                     CREATE EXTENSION pg_stat_kcache VERSION '2.1.3'`);
    await old.end();
    // A CPU-bound statement in its own database, and a session sleeping, for the sampler.
    const work = new pg.Client({ connectionString: server.url(WORK_DB) });
    await work.connect();
    await work.query('SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 3');
    await work.query('SELECT pg_sleep(0.5)');
    await work.end();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  const url = (db = 'postgres', role?: { user: string; password: string }): string => {
    if (server === undefined) throw new Error('no server');
    return role === undefined ? server.url(db) : server.url(db, role.user, role.password);
  };

  it('pg_stat_kcache (2.2) reports CPU time of the CPU-bound database', async ({ skip }) => {
    if (server === undefined) return skip(skipReason);
    const run = await runProbe(url(), pgStatKcache);
    expectSuccess(run);
    const row = rowOf(run, { datname: WORK_DB });
    expect(row, JSON.stringify(run.rows)).toBeDefined();
    expect(row?.exec_user_time).toBeGreaterThan(0);
    expect(typeof row?.exec_reads).toBe('number');
    expect(typeof row?.exec_minflts).toBe('number');
    expect(row).toHaveProperty('plan_user_time');
    expect(Object.keys(row ?? {}).sort()).toEqual(
      pgStatKcache.schema.columns.map((c) => c.name).sort(),
    );
  });

  it('pg_stat_kcache 2.1 maps the unprefixed counters to exec_* and has no plan_*', async ({
    skip,
  }) => {
    if (server === undefined) return skip(skipReason);
    const run = await runProbe(url(OLD_KCACHE_DB), pgStatKcache);
    expectSuccess(run);
    const row = rowOf(run, { datname: WORK_DB });
    expect(row?.exec_user_time).toBeGreaterThan(0);
    expect(Object.keys(row ?? {}).filter((k) => k.startsWith('plan_'))).toEqual([]);
  });

  it('pg_wait_sampling_profile shows the pg_sleep() samples with their query', async ({ skip }) => {
    if (server === undefined) return skip(skipReason);
    const run = await runProbe(url(), pgWaitSamplingProfile);
    expectSuccess(run);
    const sleep = run.rows.filter((r) => r.event_type === 'Timeout' && r.event === 'PgSleep');
    expect(sleep.length, JSON.stringify(run.rows)).toBeGreaterThan(0);
    const samples = sleep.reduce((sum, r) => sum + Number(r.samples), 0);
    expect(samples).toBeGreaterThan(0);
    // profile_queries is on and compute_query_id too: the sleep is tied to its statement.
    expect(sleep.some((r) => typeof r.queryid === 'string' && r.queryid !== '0')).toBe(true);
    expect(sleep[0]?.sample_period_ms).toBe(10);
    const keys = run.rows.map((r) => `${r.event_type}/${r.event}/${r.queryid}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('both work as a pg_monitor-only role', async ({ skip }) => {
    if (server === undefined) return skip(skipReason);
    const kcache = await runProbe(url('postgres', MONITOR), pgStatKcache);
    expectSuccess(kcache);
    expect(rowOf(kcache, { datname: WORK_DB })?.exec_user_time).toBeGreaterThan(0);
    const waits = await runProbe(url('postgres', MONITOR), pgWaitSamplingProfile);
    expectSuccess(waits);
    expect(rowOf(waits, { event_type: 'Timeout', event: 'PgSleep' })).toBeDefined();
  });

  it('pg_stat_kcache is unavailable, naming the grant, for a role without pg_read_all_stats', async ({
    skip,
  }) => {
    if (server === undefined) return skip(skipReason);
    const run = await runProbe(url('postgres', PLAIN), pgStatKcache);
    expect(run.statuses[0]?.unavailable).toBe(true);
    expect(run.statuses[0]?.error).toMatch(/GRANT pg_monitor or pg_read_all_stats/);
  });

  it('reads shared_preload_libraries into the facts as a pg_monitor role', async ({ skip }) => {
    if (server === undefined) return skip(skipReason);
    const connector = new PgTargetConnector(targetFor(url('postgres', MONITOR)), silentLogger);
    try {
      const facts = await connector.facts();
      expect(facts.sharedPreloadLibraries).toEqual([
        'pg_stat_statements',
        'pg_wait_sampling',
        'pg_stat_kcache',
      ]);
    } finally {
      await connector.close();
    }
  });
});

describe('extension probes without the extensions', () => {
  it('are unavailable on the embedded server, naming the extension', async () => {
    for (const probe of [pgStatKcache, pgWaitSamplingProfile]) {
      const run = await runProbe(pgUrl, probe);
      expect(run.statuses[0]?.unavailable, probe.name).toBe(true);
      const extension = probe.spec.requires?.extension ?? '?';
      expect(run.statuses[0]?.error).toContain(`CREATE EXTENSION ${extension}`);
    }
  });

  it('are unavailable, not failing, when installed but not preloaded', () => {
    const unknown: ServerFacts = {
      versionNum: 150000,
      version: '15.0',
      major: 15,
      extensions: { pg_stat_statements: '1.10', pg_stat_kcache: '2.2.1', pg_wait_sampling: '1.1' },
      isInRecovery: false,
      hasPgMonitor: true,
      hasReadAllStats: true,
      isSuperuser: false,
      canReadHbaFileRules: false,
      canReadIdentFileMappings: false,
      database: 'postgres',
    };
    const facts: ServerFacts = { ...unknown, sharedPreloadLibraries: ['pg_stat_statements'] };
    expect(unavailableReason(pgStatKcache.spec, facts)).toMatch(
      /pg_stat_kcache is not in shared_preload_libraries/,
    );
    expect(unavailableReason(pgWaitSamplingProfile.spec, facts)).toMatch(
      /pg_wait_sampling is not in shared_preload_libraries/,
    );
    // A role that cannot read the setting is not refused on a guess.
    expect(unavailableReason(pgWaitSamplingProfile.spec, unknown)).toBeUndefined();
  });
});
