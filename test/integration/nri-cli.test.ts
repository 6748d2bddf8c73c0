import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI, collect, type CliResult } from '../helpers/cli.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { appliesTo, NRI_V3_CATALOGUE } from '../helpers/nri-v3-metric-catalogue.js';
import { qpmEventType } from '../helpers/nri-v3-qpm-catalogue.js';

/**
 * The collector as the New Relic infrastructure agent runs it: a fresh process per interval,
 * configured only through nri-postgresql's variables, with no PATH and the agent's TEMP_DIR
 * and NRI_CONFIG_INTERVAL.
 */

type Doc = Record<string, unknown> & { data: Entity[] };
interface Entity {
  entity: { name: string; type: string; id_attributes: { Key: string; Value: string }[] };
  metrics: Record<string, string | number>[];
  inventory: Record<string, unknown>;
  events: unknown[];
}

const server = new URL(inject('pgUrl'));
const major = inject('pgMajor');
let dbUrl: string;
let dbName: string;
let tempDir: string;

function agentEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Exactly what the agent passes: its `env` map plus its own few variables, no PATH.
  return {
    HOSTNAME: server.hostname,
    PORT: server.port,
    USERNAME: decodeURIComponent(server.username),
    PASSWORD: decodeURIComponent(server.password),
    DATABASE: 'postgres',
    COLLECTION_LIST: JSON.stringify([dbName]),
    ENABLE_QUERY_MONITORING: 'true',
    TEMP_DIR: tempDir,
    NRI_CONFIG_INTERVAL: '15s',
    ...extra,
  };
}

function runAgent(env: NodeJS.ProcessEnv, args: string[] = []): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, '--mode=nri', ...args], { env, stdio: 'pipe' });
  return collect(child, 90_000);
}

function docs(result: CliResult): Doc[] {
  return result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Doc);
}

function sets(all: Doc[], eventType: string): Record<string, string | number>[] {
  return all
    .flatMap((d) => d.data.flatMap((e) => e.metrics))
    .filter((m) => m.event_type === eventType);
}

/**
 * How a printed set breaks nri-postgresql's catalogue: an unknown event type or attribute, a
 * wrong JSON type, a fraction where nri has an integer, a missing attribute it always sends,
 * keys not in Go's sorted order.
 */
function catalogueProblems(set: Record<string, string | number>): string[] {
  const eventType = String(set.event_type);
  const keys = Object.keys(set);
  const problems: string[] = [];
  if (keys.join('\n') !== [...keys].sort().join('\n')) problems.push(`${eventType}: keys unsorted`);
  const qpm = qpmEventType(eventType);
  if (qpm !== undefined) {
    const known = new Map(qpm.attributes.map((a) => [a.name, a]));
    for (const key of keys) {
      if (key === 'event_type') continue;
      const a = known.get(key);
      const value = set[key];
      if (a === undefined) problems.push(`${eventType}: extra ${key}`);
      else if ((a.type === 'string') !== (typeof value === 'string')) problems.push(`${key}: type`);
      else if (a.type === 'integer' && !Number.isInteger(value)) problems.push(`${key}: fraction`);
      else if (a.format !== undefined && Number.isNaN(Date.parse(String(value)))) {
        problems.push(`${key}: not a time`);
      }
    }
    for (const a of qpm.attributes) {
      if (a.required && a.mayBeAbsent === undefined && !(a.name in set)) {
        problems.push(`${eventType}: missing ${a.name}`);
      }
    }
    return problems;
  }
  const entry = NRI_V3_CATALOGUE[eventType];
  if (entry === undefined) return [`unknown event type ${eventType}`];
  const kind = entry.sets.find((k) => k.attributes.some((a) => a.name in set));
  if (kind === undefined) return [`${eventType}: matches no set of the catalogue`];
  const known = new Map(kind.attributes.map((a) => [a.name, a]));
  for (const key of keys) {
    if (key === 'event_type' || entry.namespace.includes(key)) {
      if (typeof set[key] !== 'string') problems.push(`${key}: not a string`);
      continue;
    }
    const a = known.get(key);
    if (a === undefined) problems.push(`${eventType}: extra ${key}`);
    else if (!appliesTo(a, major)) problems.push(`${key}: not on PG${major}`);
    else if (typeof set[key] !== a.type) problems.push(`${key}: type`);
    else if (a.integer === true && !Number.isInteger(set[key])) problems.push(`${key}: fraction`);
  }
  for (const a of kind.attributes) {
    // A table under an ACCESS EXCLUSIVE lock has no size: pg_table_size would wait on it.
    if (set.displayName === 'held' && a.name.endsWith('SizeInBytes')) continue;
    if (a.optional !== true && appliesTo(a, major) && !(a.name in set)) {
      problems.push(`${eventType} ${kind.label}: missing ${a.name}`);
    }
  }
  for (const name of entry.namespace) if (!(name in set)) problems.push(`missing ${name}`);
  return problems;
}

beforeAll(async () => {
  dbUrl = await freshDatabase(server.toString(), 'pgql_nri');
  dbName = new URL(dbUrl).pathname.slice(1);
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'pgql-nri-'));
  await queryOnce(
    dbUrl,
    `CREATE TABLE orders (id int PRIMARY KEY, note text);
     CREATE INDEX orders_note ON orders (note);
     CREATE TABLE held (id int);
     INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 200) g;`,
  );
});

afterAll(async () => {
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
});

describe('--mode=nri under the agent (nri-postgresql variables)', () => {
  it('prints protocol 3 with zero rates first, real rates and every QPM type next, stderr empty', async () => {
    const first = await runAgent(agentEnv());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const one = docs(first);
    expect(one.length).toBeGreaterThan(0);
    for (const doc of one) {
      expect(Object.keys(doc)).toEqual(['name', 'protocol_version', 'integration_version', 'data']);
      expect(doc.name).toBe('com.newrelic.postgresql');
      expect(doc.protocol_version).toBe('3');
    }
    const instance = one[0]?.data.find((e) => e.entity.type === 'pg-instance');
    expect(instance?.entity.name).toBe(`${server.hostname}:${server.port}`);
    expect(instance?.inventory['max_connections/setting']).toEqual({
      value: expect.any(String) as string,
    });
    const db = sets(one, 'PostgresqlDatabaseSample').find((s) => s.displayName === dbName);
    expect(db?.entityName).toBe(`database:${dbName}`);
    expect(db?.['db.commitsPerSecond']).toBe(0);
    expect(sets(one, 'PostgresqlTableSample').some((s) => s.displayName === 'orders')).toBe(true);
    expect(sets(one, 'PostgresqlIndexSample').some((s) => s.displayName === 'orders_note')).toBe(
      true,
    );
    // Only the collection list's database, in nri's two sets (activity, then temp and I/O).
    expect(sets(one, 'PostgresqlDatabaseSample').map((s) => s.displayName)).toEqual([
      dbName,
      dbName,
    ]);

    // Activity between the runs: commits, a slow statement still running during the next run,
    // and a lock wait behind an idle-in-transaction holder.
    const holder = new pg.Client({ connectionString: dbUrl });
    const waiter = new pg.Client({ connectionString: dbUrl });
    const busy = new pg.Client({ connectionString: dbUrl });
    await Promise.all([holder.connect(), waiter.connect(), busy.connect()]);
    try {
      for (let i = 0; i < 20; i++)
        await busy.query('UPDATE orders SET note = note WHERE id = $1', [i]);
      const slow = 'SELECT pg_sleep($1), count(*) FROM orders o JOIN orders p ON p.id = o.id';
      await busy.query(slow, [0.2]);
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      const waiting = waiter.query('SELECT count(*) FROM held').catch(() => undefined);
      const sleeping = busy.query(slow, [6]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1_200));

      const second = await runAgent(agentEnv());
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      const two = docs(second);
      const db2 = sets(two, 'PostgresqlDatabaseSample').find((s) => s.displayName === dbName);
      expect(db2?.['db.commitsPerSecond']).toBeGreaterThan(0);

      // nri publishes each QPM event type on its own line, on the instance entity.
      const qpmTypes = [
        'PostgresSlowQueries',
        'PostgresWaitEvents',
        'PostgresBlockingSessions',
        'PostgresExecutionPlanMetrics',
        ...(major >= 14 ? ['PostgresIndividualQueries'] : []),
      ];
      for (const type of qpmTypes) {
        const lines = two.filter((d) =>
          d.data.some((e) => e.metrics.some((m) => m.event_type === type)),
        );
        expect(lines.length, type).toBeGreaterThan(0);
        for (const line of lines) {
          expect(line.data.flatMap((e) => e.metrics).every((m) => m.event_type === type)).toBe(
            true,
          );
          expect(line.data.every((e) => e.entity.type === 'pg-instance')).toBe(true);
        }
      }
      // Every set, field by field, against nri-postgresql's catalogue.
      const everySet = [...one, ...two].flatMap((d) => d.data.flatMap((e) => e.metrics));
      expect(everySet.flatMap(catalogueProblems)).toEqual([]);
      const slowSets = sets(two, 'PostgresSlowQueries');
      expect(slowSets.some((s) => String(s.query_text).includes('pg_sleep'))).toBe(true);
      // Our own statements are left out, as nri-postgresql leaves out its own.
      expect(slowSets.some((s) => String(s.query_text).includes('pgquerylens'))).toBe(false);
      for (const ours of [
        'server_version_num',
        'pg_extension',
        'system_identifier',
        'statement_timeout',
      ]) {
        expect(slowSets.filter((s) => String(s.query_text).includes(ours))).toEqual([]);
      }
      expect(
        sets(two, 'PostgresBlockingSessions').some((s) => String(s.blocked_query).includes('held')),
      ).toBe(true);
      expect(
        sets(two, 'PostgresWaitEvents').some((s) => String(s.wait_event_name).startsWith('Lock:')),
      ).toBe(true);
      await holder.query('ROLLBACK');
      await Promise.all([waiting, sleeping]);
    } finally {
      await busy
        .query(
          'SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [dbName],
        )
        .catch(() => undefined);
      await Promise.all([holder.end(), waiter.end(), busy.end()]);
    }
  });

  it('rebuilds corrupt state files with a warning and still prints valid payloads', async () => {
    await runAgent(agentEnv());
    const stateDir = path.join(tempDir, 'pgquerylens');
    const files = readdirSync(stateDir).filter((f) => f.endsWith('.json'));
    // Rates (protocol 3) and the collectors' state; no lock left behind.
    expect(files.length).toBe(2);
    expect(readdirSync(stateDir).filter((f) => !f.endsWith('.json'))).toEqual([]);
    for (const f of files) writeFileSync(path.join(stateDir, f), '{"truncated":');
    const result = await runAgent(agentEnv());
    expect(result.code).toBe(0);
    expect(docs(result).length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/^\[WARN\] .*afresh/m);
    for (const f of files) {
      expect(
        () => JSON.parse(readFileSync(path.join(stateDir, f), 'utf8')) as unknown,
      ).not.toThrow();
    }
  });

  it('prints protocol 4 when asked', async () => {
    const result = await runAgent(agentEnv({ ENABLE_QUERY_MONITORING: 'false' }), [
      '--nri-protocol=4',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const all = result.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(all.length).toBeGreaterThan(0);
    for (const doc of all) {
      expect(doc.protocol_version).toBe('4');
      expect(doc.integration).toEqual({
        name: 'com.newrelic.postgresql',
        version: expect.any(String) as string,
      });
    }
  });

  it('rejects malformed variables with exit 2, naming each, never echoing the password', async () => {
    const result = await runAgent(
      agentEnv({ PORT: 'fivefour', COLLECT_BLOAT_METRICS: 'maybe', COLLECTION_LIST: '[oops' }),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/PORT/);
    expect(result.stderr).toMatch(/COLLECT_BLOAT_METRICS/);
    expect(result.stderr).toMatch(/COLLECTION_LIST/);
    expect(result.stderr).not.toContain(decodeURIComponent(server.password));
    // Tagged so the agent files them under integration-errors.
    for (const line of result.stderr.split('\n').filter((l) => l.startsWith('config error'))) {
      expect(line).toBe('never untagged');
    }
    expect(result.stderr).toMatch(/^\[ERR\] config error: PORT/m);

    const missing = await runAgent(agentEnv({ USERNAME: '' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/USERNAME/);
  });

  it('--daemon prints complete samples every interval until stopped', async () => {
    // Every 2 s: at 1 s two batches can fall in one whole second, where the SDK drops rates.
    const child = spawn(process.execPath, [CLI, '--mode=nri', '--daemon', '--interval=2s'], {
      env: agentEnv({ ENABLE_QUERY_MONITORING: 'false', PGQUERYLENS_TELEMETRY_PORT: '0' }),
      stdio: 'pipe',
    });
    const done = collect(child, 60_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 30_000;
    const instanceLines = (): number =>
      out.split('\n').filter((l) => l.includes('PostgresqlInstanceSample')).length;
    while (instanceLines() < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const all = docs(result);
    // nri-postgresql sends every sample every interval: so does the daemon, not only the first.
    const withInstance = all.filter((d) =>
      d.data.some((e) => e.metrics.some((m) => m.event_type === 'PostgresqlInstanceSample')),
    );
    expect(withInstance.length).toBeGreaterThanOrEqual(3);
    for (const doc of withInstance.slice(1)) {
      const db = doc.data
        .flatMap((e) => e.metrics)
        .find((m) => m.event_type === 'PostgresqlDatabaseSample' && 'db.maxconnections' in m);
      expect(db?.['db.conflicts.deadlockPerSecond']).toBeTypeOf('number');
      expect(
        doc.data.some((e) => e.metrics.some((m) => m.event_type === 'PostgresqlTableSample')),
      ).toBe(true);
    }
  });
});
