import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPgStatStatements,
  pgStatStatements,
  REDACTED_TEXT,
  storedText,
} from '../../src/collectors/probes/pg-stat-statements.js';
import { STATEMENT_PROBES } from '../../src/collectors/probes/catalog-statements.js';
import { QueryTextCache } from '../../src/collectors/probes/query-text-cache.js';
import { selectList } from '../../src/collectors/probes/define-probe.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import type { ServerFacts } from '../../src/core/server-facts.js';
import type { QuerySession } from '../../src/core/target-connector.js';
import { runProbe, type ProbeRun } from '../helpers/probe-run.js';
import { fitsType } from '../helpers/probe-types.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');
const [databaseA, databaseB] = inject('testDatabases') as [string, string];

/** What CREATE EXTENSION installs on each major, so every column range is exercised. */
const DEFAULT_EXTENSION_VERSION: Record<number, string> = {
  12: '1.7',
  13: '1.8',
  14: '1.9',
  15: '1.10',
  16: '1.10',
  17: '1.11',
  18: '1.12',
};

const SECRET_ROLE = 'pgql_pgss_secret';
const SECRET = 'hunter2-pgss-literal';

function urlFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onDatabase<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(pgUrl, database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The entry whose text starts with `prefix`, in `database`, read directly. */
async function entryOf(
  database: string,
  prefix: string,
): Promise<{ queryid: string; query: string }> {
  const { rows } = await onDatabase(database, (c) =>
    c.query<{ queryid: string; query: string }>(
      `SELECT s.queryid::text AS queryid, s.query FROM pg_stat_statements s
         JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = $1 AND s.query LIKE $2 || '%'`,
      [database, prefix],
    ),
  );
  const entry = rows[0];
  if (entry === undefined) throw new Error(`no pg_stat_statements entry for ${prefix}`);
  return entry;
}

/** A cache that remembers which queryids it was given, in order. */
class RecordingCache extends QueryTextCache {
  readonly stored: string[] = [];
  override set(target: string, queryid: string, text: string): void {
    this.stored.push(queryid);
    super.set(target, queryid, text);
  }
}

function expectSuccess(run: ProbeRun): void {
  expect(run.statuses).toHaveLength(1);
  expect(run.statuses[0]?.success, run.statuses[0]?.error).toBe(true);
}

let markerId = '';
let extversion = '';

beforeAll(async () => {
  // pg_sleep ranks it near the top by execution time, whatever else the database ran.
  await onDatabase(databaseA, async (c) => {
    await c.query('SELECT 4242 AS pgql_marker, pg_sleep(0.2)');
    await c.query(`DROP ROLE IF EXISTS ${SECRET_ROLE}`);
    await c.query(`CREATE ROLE ${SECRET_ROLE}`);
    await c.query(`ALTER ROLE ${SECRET_ROLE} PASSWORD '${SECRET}'`);
  });
  markerId = (await entryOf(databaseA, 'SELECT $1 AS pgql_marker')).queryid;
  extversion = await onDatabase('postgres', async (c) => {
    const { rows } = await c.query<{ v: string }>(
      "SELECT extversion AS v FROM pg_extension WHERE extname = 'pg_stat_statements'",
    );
    return rows[0]?.v ?? '';
  });
});

describe('pg_stat_statements probe', () => {
  it('is registered in the statements catalogue as a 60 s server probe', () => {
    expect(STATEMENT_PROBES).toContain(pgStatStatements);
    expect(pgStatStatements.scope).toBe('server');
    expect(pgStatStatements.defaultIntervalMs).toBe(60_000);
    expect(pgStatStatements.spec.enabledByDefault).toBe(true);
    expect(pgStatStatements.schema.retentionDays).toBe(7);
    expect(pgStatStatements.schema.key).toEqual(['userid', 'dbid', 'queryid', 'toplevel']);
  });

  it('reads the monitored database once, with the normalised text of a statement run there', async () => {
    const run = await runProbe(pgUrl, createPgStatStatements(new QueryTextCache(1000)), [
      databaseA,
    ]);
    expectSuccess(run);
    expect(run.samples).toHaveLength(1);
    expect(run.samples[0]?.database).toBeUndefined();
    const marker = run.rows.find((r) => r.queryid === markerId);
    expect(marker).toBeDefined();
    expect(marker?.datname).toBe(databaseA);
    expect(marker?.rolname).toBeTypeOf('string');
    expect(marker?.calls).toBeGreaterThanOrEqual(1);
    expect(marker?.total_exec_time).toBeGreaterThanOrEqual(200);
    expect(marker?.toplevel).toBe(true);
    expect(marker?.query).toBe('SELECT $1 AS pgql_marker, pg_sleep($2)');
    expect(new Set(run.rows.map((r) => r.datname))).toEqual(new Set([databaseA]));
    expect(run.rows.every((r) => r.queryid !== null)).toBe(true);
    expect(run.rows.length).toBeLessThanOrEqual(500);
  });

  it('leaves out statements of databases that are not monitored', async () => {
    const run = await runProbe(pgUrl, createPgStatStatements(new QueryTextCache(1000)), [
      'postgres',
    ]);
    expectSuccess(run);
    expect(run.rows.length).toBeGreaterThan(0);
    expect(run.rows.find((r) => r.queryid === markerId)).toBeUndefined();
    expect(new Set(run.rows.map((r) => r.datname))).toEqual(new Set(['postgres']));
  });

  it('fetches a text once and serves it from the cache on later runs', async () => {
    const cache = new RecordingCache(1000);
    const probe = createPgStatStatements(cache);
    const first = await runProbe(pgUrl, probe, [databaseA]);
    expectSuccess(first);
    expect(cache.stored).toContain(markerId);
    const fetchedFirst = cache.fetched;
    expect(fetchedFirst).toBeGreaterThan(0);

    const second = await runProbe(pgUrl, probe, [databaseA]);
    expectSuccess(second);
    // Other test files may run new statements meanwhile; none of the known ones is re-read.
    expect(cache.stored.slice(fetchedFirst)).not.toContain(markerId);
    expect(new Set(cache.stored).size).toBe(cache.stored.length);
    expect(cache.fetched - fetchedFirst).toBeLessThan(second.rows.length);
    expect(second.rows.find((r) => r.queryid === markerId)?.query).toBe(
      'SELECT $1 AS pgql_marker, pg_sleep($2)',
    );
  });

  it('withholds texts that may contain a password', async () => {
    const secret = await entryOf(databaseA, `ALTER ROLE ${SECRET_ROLE}`);
    // Utility statements keep their literals: the view itself shows the password.
    expect(secret.query).toContain(SECRET);
    const secretId = secret.queryid;
    const run = await runProbe(pgUrl, createPgStatStatements(new QueryTextCache(1000)), [
      databaseA,
    ]);
    expectSuccess(run);
    expect(run.rows.find((r) => r.queryid === secretId)?.query).toBe(REDACTED_TEXT);
    expect(run.rows.filter((r) => String(r.query).includes(SECRET))).toEqual([]);

    expect(storedText("ALTER USER x WITH ENCRYPTED PASSWORD 'p'")).toBe(REDACTED_TEXT);
    expect(storedText("SELECT dblink_connect('passwd=p')")).toBe(REDACTED_TEXT);
    expect(storedText('SELECT $1')).toBe('SELECT $1');
    expect(storedText(`SELECT ${'x'.repeat(5000)}`)).toHaveLength(4096);
  });

  it('runs as a pg_monitor-only role and sees other roles’ statements', async ({ skip }) => {
    if (monitorUrl === '') skip('no pg_monitor role on this server');
    const run = await runProbe(monitorUrl, createPgStatStatements(new QueryTextCache(1000)), [
      databaseA,
    ]);
    expectSuccess(run);
    expect(run.rows.length).toBeGreaterThan(0);
    expect(run.rows.find((r) => r.queryid === markerId)?.query).toBe(
      'SELECT $1 AS pgql_marker, pg_sleep($2)',
    );
  });

  it('is unavailable where the extension is not installed, saying how to install it', async () => {
    const run = await runProbe(
      urlFor(pgUrl, databaseB),
      createPgStatStatements(new QueryTextCache(10)),
      [databaseA],
    );
    expect(run.rows).toEqual([]);
    expect(run.statuses[0]?.unavailable).toBe(true);
    expect(run.statuses[0]?.error).toContain('CREATE EXTENSION pg_stat_statements');
    expect(run.statuses[0]?.error).toContain(databaseB);
  });

  it('names columns after the installed extension version, rows matching the schema', async () => {
    expect(extversion).toBe(DEFAULT_EXTENSION_VERSION[major]);
    const atLeast = (v: string): boolean =>
      extversion.localeCompare(v, undefined, { numeric: true }) >= 0;
    const run = await runProbe(pgUrl, createPgStatStatements(new QueryTextCache(1000)), [
      databaseA,
      'postgres',
    ]);
    expectSuccess(run);
    const columns = new Set(Object.keys(run.rows[0] ?? {}));
    for (const always of [
      'userid',
      'rolname',
      'dbid',
      'datname',
      'queryid',
      'toplevel',
      'query',
      'calls',
      'total_exec_time',
      'mean_exec_time',
      'rows',
      'shared_blks_hit',
      'shared_blk_read_time',
      'shared_blk_write_time',
    ]) {
      expect(columns, always).toContain(always);
    }
    for (const old of ['total_time', 'mean_time', 'blk_read_time', 'blk_write_time']) {
      expect(columns, old).not.toContain(old);
    }
    const ranged: [string, string][] = [
      ['plans', '1.8'],
      ['total_plan_time', '1.8'],
      ['wal_bytes', '1.8'],
      ['dealloc', '1.9'],
      ['stats_reset', '1.9'],
      ['jit_functions', '1.10'],
      ['temp_blk_read_time', '1.10'],
      ['local_blk_read_time', '1.11'],
      ['jit_deform_count', '1.11'],
      ['stats_since', '1.11'],
      ['minmax_stats_since', '1.11'],
      ['wal_buffers_full', '1.12'],
      ['parallel_workers_launched', '1.12'],
    ];
    for (const [name, version] of ranged) {
      expect(columns.has(name), `${name} on ${extversion}`).toBe(atLeast(version));
    }

    const types = new Map(pgStatStatements.schema.columns.map((c) => [c.name, c.type]));
    const problems = new Set<string>();
    const keys = new Set<string>();
    for (const row of run.rows) {
      for (const [name, value] of Object.entries(row)) {
        const type = types.get(name);
        if (type === undefined || !fitsType(value, type)) {
          problems.add(`${name}: ${JSON.stringify(value)} is not ${type ?? 'declared'}`);
        }
      }
      keys.add(keyOf(row));
    }
    expect([...problems]).toEqual([]);
    expect(keys.size).toBe(run.rows.length);
    expect(new Set(run.rows.map((r) => r.datname))).toEqual(new Set([databaseA, 'postgres']));
  });
});

function keyOf(row: ProbeRow): string {
  return JSON.stringify([row.userid, row.dbid, row.queryid, row.toplevel]);
}

describe('pg_stat_statements SQL for a given server', () => {
  function factsWith(extra: Partial<ServerFacts>): ServerFacts {
    return {
      versionNum: 170002,
      version: '17.2',
      major: 17,
      extensions: {},
      isInRecovery: false,
      hasPgMonitor: true,
      hasReadAllStats: true,
      isSuperuser: false,
      canReadHbaFileRules: false,
      canReadIdentFileMappings: false,
      database: 'postgres',
      ...extra,
    };
  }

  it('follows the installed extension version, not the server version', () => {
    // PostgreSQL 17 after pg_upgrade, extension not yet updated from 1.10.
    const select = selectList(
      pgStatStatements.spec.columns,
      factsWith({ extensions: { pg_stat_statements: '1.10' } }),
    );
    expect(select).toContain('s.blk_read_time AS "shared_blk_read_time"');
    expect(select).toContain('s.jit_functions AS "jit_functions"');
    expect(select).toContain('s.toplevel AS "toplevel"');
    expect(select).not.toContain('jit_deform_count');
    expect(select).not.toContain('stats_since');

    const old = selectList(
      pgStatStatements.spec.columns,
      factsWith({ extensions: { pg_stat_statements: '1.7' } }),
    );
    expect(old).toContain('s.total_time AS "total_exec_time"');
    expect(old).toContain('true AS "toplevel"');
    expect(old).not.toContain('plans');
  });

  it('is unavailable when the library is not preloaded, or the extension too old', () => {
    const session = (facts: ServerFacts): QuerySession => ({
      facts,
      query: () => Promise.reject(new Error('not expected')),
    });
    const reason = (extra: Partial<ServerFacts>): string | undefined =>
      pgStatStatements.unavailableReason?.(session(factsWith(extra)));
    expect(
      reason({
        extensions: { pg_stat_statements: '1.11' },
        sharedPreloadLibraries: ['auto_explain'],
      }),
    ).toContain('shared_preload_libraries');
    expect(reason({ extensions: { pg_stat_statements: '1.11' } })).toBeUndefined();
    expect(reason({ extensions: { pg_stat_statements: '1.2' } })).toContain('ALTER EXTENSION');
  });
});

describe('QueryTextCache', () => {
  it('keeps texts per target and evicts the least recently used', () => {
    const cache = new QueryTextCache(2);
    cache.set('a', '1', 'one');
    cache.set('b', '1', 'other target');
    expect(cache.get('a', '1')).toBe('one');
    cache.set('a', '2', 'two');
    expect(cache.size).toBe(2);
    expect(cache.has('b', '1')).toBe(false);
    expect(cache.get('a', '1')).toBe('one');
    expect(cache.get('a', '2')).toBe('two');
    expect(cache.fetched).toBe(3);
    expect(() => new QueryTextCache(0)).toThrow();
  });
});
