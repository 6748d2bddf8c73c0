import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PrometheusPullAdapter } from '../../src/adapters/prometheus/prometheus-pull-adapter.js';
import { TelemetryServer } from '../../src/cli/telemetry-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import type { SelfMetricPoint } from '../../src/core/self-telemetry.js';
import {
  freePort,
  skipReasonFor,
  spawnServer,
  stopProcess,
  waitUntil,
} from '../helpers/debian-postgres.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { probeBatch } from '../helpers/semantic-batch.js';

const pgUrl = inject('pgUrl');
const major = inject('pgMajor');

const PROMETHEUS = '/usr/bin/prometheus';
const skipReason = skipReasonFor({ [PROMETHEUS]: 'prometheus' });
const hasPromtool = spawnSync('promtool', ['--version']).error === undefined;

const SELF: SelfMetricPoint[] = [
  {
    name: 'pgquerylens.export.batches',
    description: 'Batches exported.',
    unit: '{batch}',
    kind: 'counter',
    integer: true,
    value: 3,
    attributes: { adapter: 'prometheus' },
  },
];

let dbUrl: string;
let db: string;

function collect(): Promise<UnifiedMetrics> {
  return probeBatch(dbUrl, db, major, {
    name: 'prom-test',
    host: '127.0.0.1',
    port: 5432,
    labels: { env: 'test' },
  });
}

/** xact_commit of the test database as the batch's pg_stat_database sample read it. */
function commitsIn(batch: UnifiedMetrics): number {
  const row = batch.probes
    .filter((s) => s.probe === 'pg_stat_database' && s.database === db)
    .flatMap((s) => s.rows)
    .find((r) => r.datname === db);
  expect(row, 'pg_stat_database row of the test database').toBeDefined();
  return Number(row?.xact_commit);
}

interface PromSeries {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** Polls until `until` holds, failing with the last answer after 30 s. */
async function poll<T>(what: string, read: () => Promise<T>, until: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read().catch(() => undefined);
    if (last !== undefined && until(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: last answer ${JSON.stringify(last)}`);
}

describe.skipIf(skipReason !== undefined)(
  `Prometheus scraping the pull endpoint${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const schema = 's_prom';
    let adapter: PrometheusPullAdapter;
    let server: TelemetryServer;
    let prometheus: { child: ChildProcess; log: () => string } | undefined;
    let promPort: number;
    let dataDir: string;
    let first: UnifiedMetrics;
    let commitsBefore: number;

    async function query(promql: string): Promise<PromSeries[]> {
      const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`;
      const res = await fetch(url);
      const body = (await res.json()) as { status: string; data: { result: PromSeries[] } };
      if (body.status !== 'success') throw new Error(JSON.stringify(body));
      return body.data.result;
    }

    async function scrapeText(): Promise<string> {
      return (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    }

    beforeAll(async () => {
      dbUrl = await freshDatabase(pgUrl, 'pgql_prom');
      db = new URL(dbUrl).pathname.slice(1);
      await queryOnce(
        dbUrl,
        `CREATE SCHEMA ${schema};
         CREATE TABLE ${schema}.kept (id int PRIMARY KEY, note text);
         CREATE TABLE ${schema}.gone (id int);
         INSERT INTO ${schema}.kept SELECT g, repeat('x', 200) FROM generate_series(1, 500) g;
         INSERT INTO ${schema}.gone SELECT generate_series(1, 10);`,
      );
      const [before] = await queryOnce<{ commits: string }>(
        dbUrl,
        'SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()',
      );
      commitsBefore = Number(before?.commits);

      adapter = new PrometheusPullAdapter({ intervalMs: 1_000 });
      first = await collect();
      await adapter.export(first);
      server = await TelemetryServer.start({
        host: '127.0.0.1',
        port: 0,
        logger: silentLogger,
        readiness: () => [],
        metrics: () => adapter.render(SELF),
      });

      dataDir = await mkdtemp(path.join(tmpdir(), 'pgquerylens-prometheus-'));
      const config = path.join(dataDir, 'prometheus.yml');
      await writeFile(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          '  - job_name: pgquerylens',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${server.port}']`,
          '',
        ].join('\n'),
      );
      promPort = await freePort();
      prometheus = spawnServer(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        undefined,
      );
      const { child, log } = prometheus;
      await waitUntil(
        'prometheus',
        child,
        async () =>
          (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => undefined))?.ok === true,
        log,
      );
    }, 60_000);

    afterAll(async () => {
      if (prometheus !== undefined) await stopProcess(prometheus.child, 'SIGTERM');
      await server?.close();
      await adapter?.shutdown();
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    });

    it('stores the commits counter with the server identity and the pg_stat_database value', async () => {
      const expected = commitsIn(first);
      expect(expected).toBeGreaterThanOrEqual(commitsBefore);
      const [series] = await poll(
        'postgresql_commits_total of the test database',
        () => query(`postgresql_commits_total{db_namespace="${db}"}`),
        (r) => r.length === 1,
      );
      expect(series?.metric).toEqual({
        __name__: 'postgresql_commits_total',
        job: 'pgquerylens',
        instance: `127.0.0.1:${server.port}`,
        server_address: '127.0.0.1',
        server_port: '5432',
        db_system_name: 'postgresql',
        db_namespace: db,
        env: 'test',
      });
      expect(Number(series?.value[1])).toBe(expected);

      const up = await query('up{job="pgquerylens"}');
      expect(up.map((s) => s.value[1])).toEqual(['1']);
      // The collector's own readings share the endpoint.
      const batches = await poll(
        'self metric',
        () => query('pgquerylens_export_batches_total'),
        (r) => r.length === 1,
      );
      expect(batches[0]?.metric.adapter).toBe('prometheus');
      expect(batches[0]?.value[1]).toBe('3');
    }, 60_000);

    it.skipIf(!hasPromtool)(
      'exposes text that promtool parses (skipped without promtool)',
      async () => {
        const result = spawnSync('promtool', ['check', 'metrics'], {
          input: await scrapeText(),
          encoding: 'utf8',
        });
        const output = `${result.stdout}${result.stderr}`;
        // Exit 3 is naming advice only, for names Prometheus' own OTLP translation gives as well
        // (`_milliseconds` for the OTel unit ms, `postgresql_database_count`); 1 is a parse error.
        expect(output).not.toMatch(/error while linting/);
        expect([0, 3]).toContain(result.status);
        for (const line of output.split('\n').filter((l) => l !== '')) {
          expect(line).toMatch(
            /^[a-z_:][a-z0-9_:]* (use base unit "seconds"|non-histogram and non-summary metrics should not have "_count" suffix)/,
          );
        }
      },
    );

    it('stops exposing a dropped table, and Prometheus marks its series stale', async () => {
      const size = (table: string): string =>
        `postgresql_table_size_bytes{db_namespace="${db}|${schema}",db_collection_name="${table}"}`;
      await poll(
        'gone table in Prometheus',
        () => query(size('gone')),
        (r) => r.length === 1,
      );
      expect(await scrapeText()).toContain('db_collection_name="gone"');

      await queryOnce(dbUrl, `DROP TABLE ${schema}.gone`);
      await adapter.export(await collect());
      const text = await scrapeText();
      expect(text).not.toContain('db_collection_name="gone"');
      expect(text).toContain('db_collection_name="kept"');

      await poll(
        'gone table stale in Prometheus',
        () => query(size('gone')),
        (r) => r.length === 0,
      );
      expect(await query(size('kept'))).toHaveLength(1);
    }, 60_000);
  },
);
