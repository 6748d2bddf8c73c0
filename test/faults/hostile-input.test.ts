import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { sleep } from '../../src/core/timeout.js';
import { cleanEnv, collect, startCli, type CliResult } from '../helpers/cli.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { v4DocumentProblems } from '../helpers/nri-v4-structure.js';
import { startGrpcLogsReceiver, type OtlpLogsReceiver } from '../helpers/otlp-logs-receiver.js';
import {
  badSlowQueryNumbers,
  failedCollectors,
  logLines,
  parseLines,
  stringPaths,
  stringsIn,
  v3DocumentProblems,
} from './support/hostile-checks.js';
import {
  createHostileObjects,
  HOSTILE_DATABASES,
  HOSTILE_FUNCTION,
  HOSTILE_ROLE,
  hostileTables,
  HostileWorkload,
  resetStatistics,
} from './support/hostile-fixtures.js';
import {
  pointProblems,
  signalledResets,
  startTimedMetricsReceiver,
  type TimedReceiver,
} from './support/hostile-otlp.js';

/** Collectors with counters, run every cycle so a reset shows between two reads. */
const EVERY_CYCLE = [
  'pg_database',
  'pg_stat_activity',
  'pg_stat_database',
  'pg_stat_all_tables',
  'pg_stat_all_indexes',
  'pg_statio_all_sequences',
  'pg_stat_user_functions',
  'pg_stat_statements',
  'pg_stat_bgwriter',
  'pg_stat_checkpointer',
  'pg_stat_io',
  'pg_stat_wal',
  'pg_stat_slru',
  'pg_sequence_exhaustion',
  'slow_queries',
  'execution_plans',
];

/** Custom queries returning NaN and ±Infinity, as numeric and as float8, under hostile names. */
const CUSTOM_QUERIES = {
  metricsQuery: `SELECT * FROM (VALUES
      ('nan_metric', 'gauge', 'NaN'::numeric),
      ('inf_metric', 'gauge', 'Infinity'::numeric),
      ('ninf_metric', 'rate', '-Infinity'::numeric),
      ('Zürich "m" 🐘', 'delta', 'NaN'::numeric),
      ('fine_metric', 'gauge', 42::numeric)) AS v(metric_name, metric_type, metric_value)`,
  queries: [
    {
      query: `SELECT 'NaN'::float8 AS "nan col", 'Infinity'::float8 AS inf,
                     '-Infinity'::float8 AS ninf, 'NaN'::numeric AS nnum, 1.5::float8 AS fine,
                     'Zürich "x" \\ 🐘' AS "label 'q'"`,
      database: HOSTILE_DATABASES[0],
      sampleName: 'HostileSample',
      metricTypes: { inf: 'rate', ninf: 'delta' },
    },
  ],
};

let server: EmbeddedServer | undefined;
let datastoreUrl = '';
let metrics: TimedReceiver | undefined;
let logs: OtlpLogsReceiver | undefined;
let workload: HostileWorkload | undefined;
let cli: ChildProcessWithoutNullStreams | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'pgql-hostile-'));

beforeAll(async () => {
  server = await EmbeddedServer.start({
    logger: silentLogger,
    // The whole 1 MB statement reaches pg_stat_activity, and so the session sampler.
    settings: { track_activity_query_size: '1048576' },
  });
  await createHostileObjects(server.url());
  datastoreUrl = await freshDatabase(inject('pgUrl'), 'pgql_hostile_ds');
  metrics = await startTimedMetricsReceiver();
  logs = await startGrpcLogsReceiver();
  workload = new HostileWorkload(server.url());
  workload.start();
}, 240_000);

afterAll(async () => {
  if (cli !== undefined && cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  await workload?.stop();
  await metrics?.close();
  await logs?.close();
  await server?.stop();
  if (datastoreUrl !== '') {
    const name = decodeURIComponent(new URL(datastoreUrl).pathname.slice(1));
    await queryOnce(inject('pgUrl'), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(
      () => undefined,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(500);
  }
}

function batchesIn(file: string): UnifiedMetrics[] {
  if (!existsSync(file)) return [];
  // The last line may be half written while the collector runs.
  return parseLines(readFileSync(file, 'utf8')).values as UnifiedMetrics[];
}

/** Problems of the CLI's stderr: lines that are not JSON logs, errors, crashes. */
function stderrProblems(result: CliResult): string[] {
  const { logs: lines, other } = logLines(result.stderr);
  return [
    ...other.map((l) => `not a log line: ${l}`),
    ...lines
      .filter((l) => (l.level ?? 0) >= 50 || /unhandled|uncaught/i.test(l.msg ?? ''))
      .map((l) => `error log: ${JSON.stringify(l).slice(0, 300)}`),
  ];
}

describe('hostile names, 1 MB statements, NaN and counter resets through every output', () => {
  // Must hold, for one hybrid run (NRI protocol 4 on stdout, OTLP metrics and logs over gRPC,
  // JSON lines to a file, the history datastore) over databases, schemas, tables, functions
  // and a role with quotes, backslashes, dots, tabs, newlines and emoji in their names, a
  // 1 MB statement in pg_stat_statements and pg_stat_activity, NaN and ±Infinity from custom
  // queries and table data, and every statistics counter reset mid-run: exit 0 on SIGTERM,
  // no error logs or crash output; every NRI line a valid protocol 4 document; every OTLP
  // request decodes with finite values, integers where ints are declared, no negative
  // counters, and every fall of a cumulative counter signalled by a new start time; every JSON
  // line parses, no collector fails, slow-query deltas are never negative; the datastore
  // reports no failed, rejected or dropped rows and holds every hostile name exactly.
  it('a hybrid run exports everything intact across a statistics reset', async ({ annotate }) => {
    if (server === undefined || metrics === undefined || logs === undefined) {
      throw new Error('setup failed');
    }
    const jsonFile = path.join(dir, 'batches.ndjson');
    const configFile = path.join(dir, 'hybrid.yaml');
    writeFileSync(
      configFile,
      stringify({
        mode: 'hybrid',
        interval: '3s',
        targets: [
          {
            name: 'hostile',
            url: server.url(),
            databases: 'all',
            labels: { 'label "q" 🐘': `Zürich "prod" \\ 'x'` },
          },
        ],
        collectors: Object.fromEntries(EVERY_CYCLE.map((name) => [name, { interval: '3s' }])),
        queryPerformance: { ash: { interval: '1s', rawSamples: true } },
        customQueries: CUSTOM_QUERIES,
        otlp: {
          protocol: 'grpc',
          endpoint: metrics.url,
          exportInterval: '2s',
          timeout: '2s',
          logs: { endpoint: logs.url, events: { ashSamples: true } },
        },
        output: { format: 'json', path: jsonFile },
        datastore: { url: datastoreUrl, spoolDir: path.join(dir, 'spool') },
        telemetry: { port: 0 },
        nri: { protocol: 4, stateDir: path.join(dir, 'nri-state') },
        log: { level: 'info', format: 'json' },
      }),
    );
    cli = startCli(['--config', configFile], cleanEnv());
    const done = collect(cli, 240_000);

    const slowSeen = () => batchesIn(jsonFile).some((b) => b.slowQueries.length > 0);
    await until(
      'slow queries, OTLP points and log records before the reset',
      () =>
        slowSeen() &&
        batchesIn(jsonFile).length >= 3 &&
        metrics!.points.length > 0 &&
        logs!.records().length > 0,
      90_000,
    );
    const before = batchesIn(jsonFile).length;
    const requestsBefore = metrics.requests;
    await resetStatistics(server.url(), server.major);
    await until(
      'four batches and three OTLP exports after the reset',
      () => batchesIn(jsonFile).length >= before + 4 && metrics!.requests >= requestsBefore + 3,
      60_000,
    );
    cli.kill('SIGTERM');
    const result = await done;

    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(stderrProblems(result)).toEqual([]);
    expect(workload?.errors.filter((e) => !/terminat/i.test(e)) ?? []).toEqual([]);

    // NRI protocol 4 on stdout, heartbeats `{}` between payloads.
    const nri = parseLines(result.stdout);
    expect(nri.bad).toEqual([]);
    const payloads = nri.values.filter((d) => Object.keys(d as object).length > 0);
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.flatMap((d) => v4DocumentProblems(d)).slice(0, 10)).toEqual([]);
    const nriStrings = stringsIn(payloads);
    // The custom queries ran: their finite value is there, NaN and ±Infinity were left out.
    const customMetrics = payloads.flatMap((d) =>
      ((d as { data: { metrics?: { name: string; value: unknown }[] }[] }).data ?? []).flatMap(
        (e) => e.metrics ?? [],
      ),
    );
    expect(customMetrics.find((m) => m.name === 'fine_metric')?.value).toBe(42);

    // OTLP metrics and logs.
    expect(metrics.undecodable).toEqual([]);
    expect(pointProblems(metrics.points).slice(0, 10)).toEqual([]);
    expect(signalledResets(metrics.points)).toBeGreaterThan(0);
    const namespaces = new Set(metrics.points.map((p) => p.attributes['db.namespace']));
    const records = logs.records();
    const logStrings = stringsIn(records.map((r) => r.attributes));
    const limit = 8192;
    expect(
      records.flatMap((r) =>
        Object.entries(r.attributes).filter(([, v]) => typeof v === 'string' && v.length > limit),
      ),
    ).toEqual([]);

    // JSON lines.
    const lines = parseLines(readFileSync(jsonFile, 'utf8'));
    expect(lines.bad).toEqual([]);
    const batches = lines.values as UnifiedMetrics[];
    expect(failedCollectors(batches)).toEqual([]);
    // In the model NaN and ±Infinity become null (JSON has neither); finite values stay.
    const customRows = batches.flatMap((b) =>
      b.probes.filter((p) => p.custom !== undefined).flatMap((p) => p.rows),
    );
    expect(customRows).toContainEqual(
      expect.objectContaining({ metric_name: 'nan_metric', metric_value: null }),
    );
    expect(customRows).toContainEqual(
      expect.objectContaining({ metric_name: 'fine_metric', metric_value: 42 }),
    );
    expect(customRows).toContainEqual(
      expect.objectContaining({ 'nan col': null, inf: null, ninf: null, fine: 1.5 }),
    );
    expect(badSlowQueryNumbers(batches).slice(0, 10)).toEqual([]);
    const jsonStrings = stringsIn(batches);

    for (const db of HOSTILE_DATABASES) {
      expect(jsonStrings.has(db), `JSON lines: ${db}`).toBe(true);
      expect(namespaces.has(db), `OTLP db.namespace: ${db}`).toBe(true);
      expect(nriStrings.has(db) || [...nriStrings].some((s) => s.endsWith(`/${db}`))).toBe(true);
    }
    for (const t of hostileTables()) {
      expect(jsonStrings.has(t.table) && jsonStrings.has(t.schema), t.table).toBe(true);
    }
    expect(jsonStrings.has(HOSTILE_ROLE)).toBe(true);
    expect(jsonStrings.has(HOSTILE_FUNCTION)).toBe(true);
    // The 1 MB statement was seen (in sessions, slow queries, events) and its text obfuscated
    // everywhere: the comment that made it a megabyte, hostile characters and all, is gone.
    const bigContent = (s: string): boolean => s.includes('é日本🐘');
    expect(stringPaths(batches, bigContent).slice(0, 10)).toEqual([]);
    expect(stringPaths(payloads, bigContent).slice(0, 10)).toEqual([]);
    expect(stringPaths(records, bigContent).slice(0, 10)).toEqual([]);
    const sleeps = (s: string): boolean => /^SELECT pg_sleep\((\?|\$1)\)$/.test(s.trim());
    expect(stringPaths(batches, sleeps).length).toBeGreaterThan(0);
    expect(
      [...logStrings].filter(sleeps).length,
      [...logStrings].slice(0, 20).join('\n'),
    ).toBeGreaterThan(0);

    // The datastore: nothing failed, and every name came back byte for byte.
    const stopped = logLines(result.stderr).logs.find((l) => l.msg === 'stopped');
    const stats = stopped?.datastore as Record<string, number> | undefined;
    expect(stats).toBeDefined();
    expect({
      failedWrites: stats?.failedWrites,
      rejectedRows: stats?.rejectedRows,
      droppedRows: stats?.droppedRows,
    }).toEqual({ failedWrites: 0, rejectedRows: 0, droppedRows: 0 });
    expect(stats?.rowsWritten).toBeGreaterThan(0);
    const stored = await queryOnce<{ database_name: string; schemaname: string; relname: string }>(
      datastoreUrl,
      'SELECT DISTINCT database_name, schemaname, relname FROM metrics.pg_stat_all_tables',
    );
    const storedKeys = new Set(
      stored.map((r) => JSON.stringify([r.database_name, r.schemaname, r.relname])),
    );
    const missing = hostileTables().filter(
      (t) => !storedKeys.has(JSON.stringify([t.database, t.schema, t.table])),
    );
    expect(missing).toEqual([]);
    const users = await queryOnce<{ usename: string }>(
      datastoreUrl,
      'SELECT DISTINCT usename FROM metrics.pg_stat_activity WHERE usename IS NOT NULL',
    );
    expect(users.map((u) => u.usename)).toContain(HOSTILE_ROLE);
    const functions = await queryOnce<{ funcname: string }>(
      datastoreUrl,
      'SELECT DISTINCT funcname FROM metrics.pg_stat_user_functions',
    );
    expect(functions.map((f) => f.funcname)).toContain(HOSTILE_FUNCTION);
    const leaked = await queryOnce<{ n: number }>(
      datastoreUrl,
      `SELECT (SELECT count(*) FROM metrics.pg_stat_activity WHERE query LIKE $1)
            + (SELECT count(*) FROM metrics.pg_stat_statements WHERE query LIKE $1) AS n`,
      ['%é日本🐘%'],
    );
    expect(Number(leaked[0]?.n)).toBe(0);
    await annotate(
      `${batches.length} batches, ${payloads.length} NRI payloads, ${metrics.requests} OTLP ` +
        `metric requests (${metrics.points.length} points, ${signalledResets(metrics.points)} ` +
        `signalled resets), ${records.length} log records, ${stats?.rowsWritten} rows stored`,
    );
  });

  // Must hold: nri-postgresql's protocol 3 (the drop-in) over the same hostile server, one
  // process per run as the agent runs it, a statistics reset between the second and third
  // run (rates fall): each run exits 0, prints only JSON lines that are protocol 3 documents
  // with finite values and sorted keys, and logs no error.
  it('nri protocol 3 one-shot runs across a reset print valid documents', async ({ annotate }) => {
    if (server === undefined) throw new Error('setup failed');
    const configFile = path.join(dir, 'nri.yaml');
    writeFileSync(
      configFile,
      stringify({
        mode: 'nri',
        targets: [{ name: 'hostile', url: server.url(), databases: 'all' }],
        customQueries: CUSTOM_QUERIES,
        nri: { protocol: 3, stateDir: path.join(dir, 'nri3-state') },
      }),
    );
    const runs: CliResult[] = [];
    for (let i = 0; i < 3; i++) {
      if (i === 2) await resetStatistics(server.url(), server.major);
      const child = startCli(['--config', configFile], cleanEnv());
      runs.push(await collect(child, 90_000));
      await sleep(1_500);
    }
    for (const run of runs) {
      expect(run.code, run.stderr.slice(-1000)).toBe(0);
      expect(run.stderr.split('\n').filter((l) => /^\[ERR\]|^\s+at /.test(l))).toEqual([]);
      const lines = parseLines(run.stdout);
      expect(lines.bad).toEqual([]);
      expect(lines.values.length).toBeGreaterThan(0);
      expect(lines.values.flatMap(v3DocumentProblems).slice(0, 10)).toEqual([]);
      const strings = stringsIn(lines.values);
      for (const db of HOSTILE_DATABASES) {
        expect(
          [...strings].some((s) => s.includes(db)),
          db,
        ).toBe(true);
      }
    }
    await annotate(runs.map((r) => `${parseLines(r.stdout).values.length} lines`).join(', '));
  });
});
