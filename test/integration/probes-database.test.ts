import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DATABASE_PROBES } from '../../src/collectors/probes/catalog-database.js';
import { pgExtension } from '../../src/collectors/probes/pg-extension.js';
import { pgInvalidIndexes } from '../../src/collectors/probes/pg-invalid-indexes.js';
import { pgSequenceExhaustion } from '../../src/collectors/probes/pg-sequence-exhaustion.js';
import { pgStatAllIndexes } from '../../src/collectors/probes/pg-stat-all-indexes.js';
import { pgStatAllTables } from '../../src/collectors/probes/pg-stat-all-tables.js';
import { pgStatDatabaseConflicts } from '../../src/collectors/probes/pg-stat-database-conflicts.js';
import { pgStatUserFunctions } from '../../src/collectors/probes/pg-stat-user-functions.js';
import { pgStatioAllSequences } from '../../src/collectors/probes/pg-statio-all-sequences.js';
import { pgTableBloat } from '../../src/collectors/probes/pg-table-bloat.js';
import { pgTableWraparound } from '../../src/collectors/probes/pg-table-wraparound.js';
import { pgUnusedIndexes } from '../../src/collectors/probes/pg-unused-indexes.js';
import type { ProbeCollector } from '../../src/collectors/probes/define-probe.js';
import type { ProbeRow } from '../../src/core/model/probe-sample.js';
import { FIXTURES } from '../helpers/probe-fixtures.js';
import { runProbe } from '../helpers/probe-run.js';

const pgUrl = inject('pgUrl');
const monitorUrl = inject('monitorUrl');
const major = inject('pgMajor');

/** This file's own objects, apart from the shared fixtures. */
const SCHEMA = 'pgql_db_probe';
const DB = [FIXTURES.database];
const APP = FIXTURES.schema;

const ROLES = [
  ['superuser', pgUrl],
  ['pg_monitor role', monitorUrl],
] as const;

function fixtureDb(): pg.Client {
  const url = new URL(pgUrl);
  url.pathname = `/${FIXTURES.database}`;
  return new pg.Client({ connectionString: url.toString() });
}

/** The probe's rows in the fixture database, after checking it succeeded there. */
async function rowsOf(url: string, probe: ProbeCollector): Promise<readonly ProbeRow[]> {
  const run = await runProbe(url, probe, DB);
  expect(run.statuses).toHaveLength(1);
  expect(run.statuses[0]?.success, `${probe.name}: ${run.statuses[0]?.error}`).toBe(true);
  expect(run.samples[0]?.database).toBe(FIXTURES.database);
  return run.rows;
}

function find(rows: readonly ProbeRow[], match: Record<string, unknown>): ProbeRow | undefined {
  return rows.find((r) => Object.entries(match).every(([k, v]) => r[k] === v));
}

/** Runs `body` once per role that exists on this server. */
async function asEachRole(
  body: (label: string, url: string, superuser: boolean) => Promise<void>,
): Promise<void> {
  for (const [label, url] of ROLES) {
    if (url !== '') await body(label, url, url === pgUrl);
  }
}

beforeAll(async () => {
  const monitorRole = monitorUrl === '' ? undefined : new URL(monitorUrl).username;
  const db = fixtureDb();
  await db.connect();
  try {
    await db.query(`
      DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE;
      CREATE SCHEMA ${SCHEMA};
      -- Per-table freeze ages: lower than the server's counts, higher is ignored by autovacuum.
      CREATE TABLE ${SCHEMA}.freeze_low (t text)
        WITH (autovacuum_freeze_max_age = 100000, toast.autovacuum_freeze_max_age = 150000);
      CREATE TABLE ${SCHEMA}.freeze_high (t text) WITH (autovacuum_freeze_max_age = 1000000000);
      CREATE TABLE ${SCHEMA}.packed (id int, v text) WITH (fillfactor = 70);
      INSERT INTO ${SCHEMA}.packed SELECT g, 'row ' || g FROM generate_series(1, 500) g;
      ANALYZE ${SCHEMA}.packed;
      CREATE TABLE ${SCHEMA}.busy (id int PRIMARY KEY);
      CREATE SEQUENCE ${SCHEMA}.down_seq INCREMENT -1 MINVALUE -100 MAXVALUE -1 START -1;
      SELECT nextval('${SCHEMA}.down_seq') FROM generate_series(1, 50);
      CREATE SEQUENCE ${SCHEMA}.fresh_seq MINVALUE 1 MAXVALUE 100 START 10;
      CREATE SEQUENCE ${SCHEMA}.huge_seq;
      SELECT setval('${SCHEMA}.huge_seq', 4611686018427387904);
      CREATE SEQUENCE ${SCHEMA}.granted_seq MAXVALUE 10;
      SELECT setval('${SCHEMA}.granted_seq', 5);
      CREATE SEQUENCE ${SCHEMA}.altered_seq;
    `);
    if (monitorRole !== undefined) {
      await db.query(`GRANT SELECT ON SEQUENCE ${SCHEMA}.granted_seq TO ${monitorRole}`);
    }
  } finally {
    await db.end();
  }
});

afterAll(async () => {
  const db = fixtureDb();
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

describe('database probe catalogue', () => {
  it('registers pg_stat_database and this batch, all database-scoped', () => {
    expect(DATABASE_PROBES.map((p) => p.name)).toEqual([
      'pg_stat_database',
      'pg_stat_database_conflicts',
      'pg_stat_all_tables',
      'pg_stat_all_indexes',
      'pg_statio_all_sequences',
      'pg_stat_user_functions',
      'pg_extension',
      'pg_table_wraparound',
      'pg_sequence_exhaustion',
      'pg_table_bloat',
      'pg_unused_indexes',
      'pg_invalid_indexes',
    ]);
    for (const probe of DATABASE_PROBES) expect(probe.scope).toBe('database');
    expect(pgExtension.schema.changeTracked).toBe(true);
  });

  it('runs once per database', async () => {
    const run = await runProbe(pgUrl, pgStatDatabaseConflicts, 'all');
    const databases = run.samples.map((s) => s.database);
    expect(databases).toEqual(expect.arrayContaining(['postgres', FIXTURES.database]));
    for (const sample of run.samples) {
      expect(sample.rows.map((r) => r.datname)).toEqual([sample.database]);
    }
  });
});

describe('pg_stat_database_conflicts', () => {
  it("reads the current database's row, with logical-slot conflicts from PostgreSQL 16", () =>
    asEachRole(async (_label, url) => {
      const rows = await rowsOf(url, pgStatDatabaseConflicts);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({ datname: FIXTURES.database, confl_lock: 0, confl_deadlock: 0 });
      expect(Number.isInteger(row.datid)).toBe(true);
      expect(Object.hasOwn(row, 'confl_active_logicalslot')).toBe(major >= 16);
    }));
});

describe('pg_stat_all_tables', () => {
  it('has user tables and catalogs with counters, block I/O and sizes', () =>
    asEachRole(async (label, url) => {
      const rows = await rowsOf(url, pgStatAllTables);
      const orders = find(rows, { schemaname: APP, relname: FIXTURES.table });
      expect(orders, label).toBeDefined();
      expect(orders!.n_tup_ins as number).toBeGreaterThanOrEqual(2000);
      expect(orders!.n_tup_del as number).toBeGreaterThanOrEqual(285);
      expect(orders!.n_live_tup as number).toBeGreaterThan(1000);
      expect(orders!.idx_scan as number).toBeGreaterThanOrEqual(1);
      expect(orders!.last_analyze).toEqual(expect.any(String));
      expect(orders!.heap_blks_hit as number).toBeGreaterThan(0);
      expect(orders!.table_size_bytes as number).toBeGreaterThan(0);
      // Three indexes on top of the heap.
      expect(orders!.total_size_bytes as number).toBeGreaterThan(
        orders!.table_size_bytes as number,
      );
      expect(Number.isInteger(orders!.relid)).toBe(true);
      expect(Object.hasOwn(orders!, 'n_ins_since_vacuum')).toBe(major >= 13);
      expect(Object.hasOwn(orders!, 'last_seq_scan')).toBe(major >= 16);
      expect(Object.hasOwn(orders!, 'n_tup_newpage_upd')).toBe(major >= 16);
      expect(Object.hasOwn(orders!, 'total_autovacuum_time')).toBe(major >= 18);
      expect(find(rows, { schemaname: 'pg_catalog', relname: 'pg_class' }), label).toBeDefined();
      expect(rows.some((r) => r.schemaname === 'pg_toast')).toBe(true);
    }));

  it('leaves out the size of a table behind an ACCESS EXCLUSIVE lock instead of waiting', async () => {
    const locker = fixtureDb();
    await locker.connect();
    try {
      await locker.query(`BEGIN; LOCK TABLE ${SCHEMA}.busy IN ACCESS EXCLUSIVE MODE`);
      // Without the guard the size functions would wait into lock_timeout and fail the probe.
      const rows = await rowsOf(pgUrl, pgStatAllTables);
      expect(find(rows, { schemaname: SCHEMA, relname: 'busy' })).toMatchObject({
        table_size_bytes: null,
        total_size_bytes: null,
      });
      const orders = find(rows, { schemaname: APP, relname: FIXTURES.table });
      expect(orders!.table_size_bytes as number).toBeGreaterThan(0);
      const wrap = await rowsOf(pgUrl, pgTableWraparound);
      expect(find(wrap, { schemaname: SCHEMA, relname: 'busy' })).toMatchObject({
        table_size_bytes: null,
      });
      const bloat = await rowsOf(pgUrl, pgTableBloat);
      expect(find(bloat, { schemaname: SCHEMA, relname: 'busy' })).toMatchObject({
        table_size_bytes: null,
        estimated_bloat_bytes: null,
      });
      // An index of a locked table is locked only if the statement locked it too.
      const indexes = await rowsOf(pgUrl, pgStatAllIndexes);
      expect(find(indexes, { schemaname: SCHEMA, indexrelname: 'busy_pkey' })).toBeDefined();
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});

describe('pg_stat_all_indexes', () => {
  it('tells the used index from the unused one, with block I/O and size', () =>
    asEachRole(async (label, url) => {
      const rows = await rowsOf(url, pgStatAllIndexes);
      const used = find(rows, { schemaname: APP, indexrelname: 'orders_customer_idx' });
      const unused = find(rows, { schemaname: APP, indexrelname: FIXTURES.unusedIndex });
      expect(used, label).toMatchObject({ relname: FIXTURES.table });
      expect(used!.idx_scan as number).toBeGreaterThanOrEqual(1);
      expect(unused, label).toMatchObject({ relname: FIXTURES.table, idx_scan: 0 });
      expect(unused!.index_size_bytes as number).toBeGreaterThan(0);
      expect(Number.isInteger(used!.indexrelid)).toBe(true);
      expect(typeof used!.idx_blks_hit).toBe('number');
      if (major >= 16) {
        expect(used!.last_idx_scan).toEqual(expect.any(String));
        expect(unused!.last_idx_scan).toBeNull();
      } else {
        expect(used).not.toHaveProperty('last_idx_scan');
      }
    }));
});

describe('pg_statio_all_sequences and pg_stat_user_functions', () => {
  it('list the fixture sequence and the called function', () =>
    asEachRole(async (label, url) => {
      const seqs = await rowsOf(url, pgStatioAllSequences);
      const seq = find(seqs, { schemaname: APP, relname: FIXTURES.sequence });
      expect(seq, label).toBeDefined();
      expect((seq!.blks_hit as number) + (seq!.blks_read as number)).toBeGreaterThan(0);

      const funcs = await rowsOf(url, pgStatUserFunctions);
      const fn = find(funcs, { schemaname: APP, funcname: FIXTURES.function });
      expect(fn, label).toBeDefined();
      expect(fn!.calls as number).toBeGreaterThanOrEqual(5);
      expect(Number.isInteger(fn!.funcid)).toBe(true);
      expect(fn!.total_time as number).toBeGreaterThan(0);
    }));
});

describe('pg_extension', () => {
  it('reports installed versions and spots an available update', async () => {
    const db = fixtureDb();
    await db.connect();
    try {
      // An old version on purpose: the server ships a newer default.
      await db.query(`CREATE EXTENSION pg_freespacemap VERSION '1.1' SCHEMA ${SCHEMA}`);
      await asEachRole(async (label, url) => {
        const rows = await rowsOf(url, pgExtension);
        expect(find(rows, { extname: 'plpgsql' }), label).toMatchObject({
          schema_name: 'pg_catalog',
          extversion: '1.0',
          default_version: '1.0',
          update_available: false,
        });
        const pgss = find(rows, { extname: 'pg_stat_statements' });
        expect(pgss, label).toMatchObject({ schema_name: 'public', extrelocatable: true });
        expect(pgss!.default_version).toEqual(expect.any(String));
        const fsm = find(rows, { extname: 'pg_freespacemap' });
        expect(fsm, label).toMatchObject({
          extversion: '1.1',
          schema_name: SCHEMA,
          update_available: true,
        });
        expect(fsm!.default_version).not.toBe('1.1');
      });
    } finally {
      await db.query('DROP EXTENSION IF EXISTS pg_freespacemap');
      await db.end();
    }
  });
});

describe('pg_table_wraparound', () => {
  it('ranks tables by xid age against the effective freeze age', async () => {
    const db = fixtureDb();
    await db.connect();
    const setting = Number(
      (await db.query<{ v: string }>("SELECT current_setting('autovacuum_freeze_max_age') AS v"))
        .rows[0]!.v,
    );
    await db.end();
    await asEachRole(async (label, url) => {
      const rows = await rowsOf(url, pgTableWraparound);
      const orders = find(rows, { schemaname: APP, relname: FIXTURES.table });
      expect(orders, label).toMatchObject({
        relkind: 'r',
        freeze_max_age: setting,
        toast_of: null,
      });
      const age = orders!.xid_age as number;
      expect(Number.isInteger(age) && age > 0).toBe(true);
      expect(orders!.pct_towards_wraparound).toBeCloseTo((age / 2 ** 31) * 100, 6);
      expect(orders!.pct_towards_forced_autovacuum).toBeCloseTo((age / setting) * 100, 6);
      expect(Number.isInteger(orders!.mxid_age)).toBe(true);
      expect(orders!.table_size_bytes as number).toBeGreaterThan(0);
      expect(find(rows, { schemaname: SCHEMA, relname: 'freeze_low' })).toMatchObject({
        freeze_max_age: 100_000,
      });
      // Larger than the server's setting: autovacuum ignores it.
      expect(find(rows, { schemaname: SCHEMA, relname: 'freeze_high' })).toMatchObject({
        freeze_max_age: setting,
      });
      const toast = rows.find((r) => r.toast_of === `${SCHEMA}.freeze_low`);
      expect(toast, label).toMatchObject({ relkind: 't', freeze_max_age: 150_000 });
      // Oldest first.
      const ages = rows.map((r) => r.xid_age as number);
      expect([...ages].sort((a, b) => b - a)).toEqual(ages);
      expect(rows.length).toBeLessThanOrEqual(500);
    });
  });
});

describe('pg_sequence_exhaustion', () => {
  it('computes the share used where the role may read the sequence, and says where not', () =>
    asEachRole(async (label, url, superuser) => {
      const rows = await rowsOf(url, pgSequenceExhaustion);
      const ticket = find(rows, { schemaname: APP, sequencename: FIXTURES.sequence });
      expect(ticket, label).toMatchObject({
        data_type: 'integer',
        min_value: 1,
        max_value: 1000,
        increment_by: 1,
        cycle: false,
      });
      // Granted explicitly: readable even as pg_monitor.
      const granted = find(rows, { schemaname: SCHEMA, sequencename: 'granted_seq' });
      expect(granted, label).toMatchObject({ readable: true, last_value: 5 });
      expect(granted!.pct_used).toBeCloseTo((4 / 9) * 100, 6);
      if (!superuser) {
        // pg_monitor has neither USAGE nor SELECT on the application's sequences.
        expect(ticket).toMatchObject({ readable: false, last_value: null, pct_used: null });
        return;
      }
      expect(ticket).toMatchObject({ readable: true, last_value: 900 });
      expect(ticket!.pct_used).toBeCloseTo((899 / 999) * 100, 6);
      // Descending: used from the top down.
      const down = find(rows, { schemaname: SCHEMA, sequencename: 'down_seq' });
      expect(down).toMatchObject({ last_value: -50, increment_by: -1 });
      expect(down!.pct_used).toBeCloseTo((49 / 99) * 100, 6);
      // Never called: no last value; its start stands in.
      const fresh = find(rows, { schemaname: SCHEMA, sequencename: 'fresh_seq' });
      expect(fresh).toMatchObject({ readable: true, last_value: null });
      expect(fresh!.pct_used).toBeCloseTo((9 / 99) * 100, 6);
      // A bigint range does not overflow.
      const huge = find(rows, { schemaname: SCHEMA, sequencename: 'huge_seq' });
      expect(huge!.pct_used).toBeCloseTo(50, 6);
      // Nearest to exhaustion first.
      const pcts = rows.map((r) => r.pct_used).filter((p): p is number => p !== null);
      expect([...pcts].sort((a, b) => b - a)).toEqual(pcts);
    }));

  it('skips a sequence locked by ALTER SEQUENCE instead of waiting for it', async () => {
    const db = fixtureDb();
    await db.connect();
    try {
      await db.query(`BEGIN; ALTER SEQUENCE ${SCHEMA}.altered_seq RESTART`);
      const rows = await rowsOf(pgUrl, pgSequenceExhaustion);
      expect(find(rows, { schemaname: SCHEMA, sequencename: 'altered_seq' })).toMatchObject({
        readable: true,
        last_value: null,
        pct_used: null,
      });
      expect(find(rows, { schemaname: APP, sequencename: FIXTURES.sequence })).toMatchObject({
        last_value: 900,
      });
    } finally {
      await db.query('ROLLBACK');
      await db.end();
    }
  });
});

describe('pg_table_bloat', () => {
  it('estimates from statistics where the role may read them, else from dead rows', () =>
    asEachRole(async (label, url, superuser) => {
      const rows = await rowsOf(url, pgTableBloat);
      const orders = find(rows, { schemaname: APP, relname: FIXTURES.table });
      // pg_stats shows a table's columns only to roles that may SELECT them.
      expect(orders, label).toMatchObject({
        method: superuser ? 'statistics' : 'dead_tuples',
        fillfactor: 100,
      });
      const size = orders!.table_size_bytes as number;
      const pct = orders!.bloat_pct as number;
      expect(size).toBeGreaterThan(0);
      expect(pct).toBeGreaterThanOrEqual(0);
      expect(pct).toBeLessThanOrEqual(100);
      expect(
        Math.abs((orders!.estimated_bloat_bytes as number) - (size * pct) / 100),
      ).toBeLessThanOrEqual(1);
      expect(find(rows, { schemaname: SCHEMA, relname: 'packed' })).toMatchObject({
        fillfactor: 70,
        method: superuser ? 'statistics' : 'dead_tuples',
      });
      // Catalogs are readable by everyone, so their statistics are too.
      expect(find(rows, { schemaname: 'pg_catalog', relname: 'pg_class' })).toMatchObject({
        method: 'statistics',
      });
      expect(rows.length).toBeLessThanOrEqual(200);
    }));
});

describe('pg_unused_indexes and pg_invalid_indexes', () => {
  it('list the never-scanned index but not the used, primary-key or unique ones', () =>
    asEachRole(async (label, url) => {
      const rows = await rowsOf(url, pgUnusedIndexes);
      const names = rows.map((r) => r.indexrelname);
      const unused = find(rows, { schemaname: APP, indexrelname: FIXTURES.unusedIndex });
      expect(unused, label).toMatchObject({ relname: FIXTURES.table, idx_scan: 0 });
      expect(unused!.index_size_bytes as number).toBeGreaterThan(0);
      expect(unused!.definition).toBe(
        `CREATE INDEX ${FIXTURES.unusedIndex} ON ${APP}.${FIXTURES.table} USING btree (note)`,
      );
      expect(Date.parse(unused!.stats_since as string)).toBeLessThanOrEqual(Date.now());
      expect(names).not.toContain('orders_customer_idx');
      expect(names).not.toContain('orders_pkey');
      expect(names).not.toContain(FIXTURES.invalidIndex);
      expect(rows.every((r) => r.schemaname !== 'pg_catalog')).toBe(true);
    }));

  it('list the index a failed concurrent build left invalid', () =>
    asEachRole(async (label, url) => {
      const rows = await rowsOf(url, pgInvalidIndexes);
      expect(find(rows, { schemaname: APP, indexrelname: FIXTURES.invalidIndex }), label).toEqual({
        schemaname: APP,
        relname: 'dupes',
        indexrelname: FIXTURES.invalidIndex,
        indisvalid: false,
        indisready: expect.any(Boolean),
        index_size_bytes: expect.any(Number),
        definition: `CREATE UNIQUE INDEX ${FIXTURES.invalidIndex} ON ${APP}.dupes USING btree (v)`,
      });
      expect(rows.map((r) => r.indexrelname)).not.toContain(FIXTURES.unusedIndex);
    }));
});
