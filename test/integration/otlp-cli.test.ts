import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../../src/core/timeout.js';
import { cleanEnv, collect, startCli } from '../helpers/cli.js';
import { decodeMetricsRequest, type ReceivedResourceMetrics } from '../helpers/otlp-receiver.js';

const pgUrl = inject('pgUrl');

type Mode = 'ok' | 'fail' | 'slow';

/** An OTLP/HTTP endpoint that can be made to fail (503) or stall past the exporter's timeout. */
interface FlakyReceiver {
  mode: Mode;
  readonly url: string;
  readonly accepted: ReceivedResourceMetrics[][];
  rejected: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function flakyReceiver(mode: Mode): Promise<FlakyReceiver> {
  const state = { mode, accepted: [] as ReceivedResourceMetrics[][], rejected: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/metrics') {
        res.writeHead(200).end();
        return;
      }
      if (state.mode === 'fail') {
        state.rejected += 1;
        res.writeHead(503).end();
        return;
      }
      if (state.mode === 'slow') {
        state.rejected += 1;
        setTimeout(() => res.writeHead(200).end(), 3_000).unref();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      state.accepted.push(decodeMetricsRequest(body));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startOtel(receiver: FlakyReceiver, extra: Record<string, string> = {}) {
  const child = startCli(
    ['--target', pgUrl, '--mode=otel', '--interval=1s', '--log-format=json'],
    cleanEnv({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '800',
      ...extra,
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = collect(child, 120_000);
  const port = async (): Promise<number> => {
    let found: number | undefined;
    await until('the telemetry listener', () => {
      const line = stderr.split('\n').find((l) => l.includes('telemetry listening'));
      found = line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
      return found !== undefined;
    });
    return found ?? 0;
  };
  return { child, done, port, stderr: () => stderr };
}

async function scrape(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** A self-metric's value summed over its series, from the Prometheus text. */
function total(text: string, name: string, match = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => l.includes(match))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function metricNames(requests: readonly ReceivedResourceMetrics[][]): Set<string> {
  return new Set(requests.flat().flatMap((r) => r.metrics.map((m) => m.name)));
}

describe('the CLI exporting over OTLP to an endpoint that fails, stalls and recovers', () => {
  it('keeps collecting, reports not ready, then delivers when the endpoint returns', async () => {
    const receiver = await flakyReceiver('fail');
    const cli = startOtel(receiver);
    try {
      const port = await cli.port();
      expect((await scrape(port, '/healthz')).status).toBe(200);

      await until('rejected exports', () => receiver.rejected >= 2);
      // The check itself must have failed: 503 alone may still mean the first run is going on
      // (the self-metrics' exports are refused from the start too).
      await until('not ready because of the endpoint', async () => {
        const r = await scrape(port, '/readyz');
        const checks = (JSON.parse(r.body) as { checks: { name: string; ok: boolean }[] }).checks;
        return r.status === 503 && checks.some((c) => c.name === 'adapter:otlp' && !c.ok);
      });
      const down = await scrape(port, '/metrics');
      const batchesWhileDown = total(down.body, 'pgquerylens_collection_batches_total');
      expect(batchesWhileDown).toBeGreaterThanOrEqual(1);
      // The OTLP adapter only keeps the latest readings: nothing piles up in its lane.
      expect(
        total(down.body, 'pgquerylens_export_queue_depth', 'adapter="otlp"'),
      ).toBeLessThanOrEqual(1);

      receiver.mode = 'ok';
      await until('PostgreSQL metrics delivered', () =>
        metricNames(receiver.accepted).has('postgresql.backends'),
      );
      await until('ready again', async () => (await scrape(port, '/readyz')).status === 200);
      const resources = receiver.accepted.flat().map((r) => r.resource);
      expect(resources.some((r) => r['db.system.name'] === 'postgresql')).toBe(true);
      expect(resources.some((r) => r['server.port'] === Number(new URL(pgUrl).port))).toBe(true);
      // The collector's own metrics, on a resource of their own.
      await until('self-metrics delivered', () =>
        metricNames(receiver.accepted).has('pgquerylens.collection.batches'),
      );
      const self = receiver.accepted
        .flat()
        .find((r) => r.metrics.some((m) => m.name === 'pgquerylens.collection.batches'));
      expect(self?.resource['server.address']).toBeUndefined();
      expect(self?.resource['service.name']).toBe('pgquerylens');

      receiver.mode = 'slow';
      const before = total(
        (await scrape(port, '/metrics')).body,
        'pgquerylens_collection_batches_total',
      );
      await until('stalled exports', () => receiver.rejected >= 5);
      await until('collection going on while exports stall', async () => {
        const now = total(
          (await scrape(port, '/metrics')).body,
          'pgquerylens_collection_batches_total',
        );
        return now >= before + 3;
      });
      receiver.mode = 'ok';
      const delivered = receiver.accepted.length;
      await until('delivery resumed', () => receiver.accepted.length > delivered + 1);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(cli.stderr()).not.toMatch(/unhandled|"level":"fatal"/);
    // An outage is reported when it starts and when it ends, not at every failed export.
    const failures = cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('OTLP metric export failed'));
    expect(receiver.rejected).toBeGreaterThan(failures.length + 2);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(2);
    expect(cli.stderr()).toContain('OTLP metric export recovered');
  }, 120_000);

  it('sends the last readings on shutdown', async () => {
    const receiver = await flakyReceiver('ok');
    // An export interval far beyond the test: only the shutdown can have sent anything.
    const cli = startOtel(receiver, { OTEL_METRIC_EXPORT_INTERVAL: '600000' });
    const port = await cli.port();
    await until('two collection runs', async () => {
      const text = (await scrape(port, '/metrics')).body;
      return total(text, 'pgquerylens_collection_batches_total') >= 2;
    });
    expect(receiver.accepted).toHaveLength(0);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(metricNames(receiver.accepted).has('postgresql.backends')).toBe(true);
    expect(metricNames(receiver.accepted).has('pgquerylens.collection.batches')).toBe(true);
  }, 60_000);

  it('serves the PostgreSQL metrics for Prometheus to pull, with OTLP push switched off', async () => {
    const receiver = await flakyReceiver('ok');
    const cli = startOtel(receiver, { PGQUERYLENS_OTLP: 'false', PGQUERYLENS_PROMETHEUS: 'true' });
    try {
      const port = await cli.port();
      let text = '';
      await until('PostgreSQL series on /metrics', async () => {
        text = (await scrape(port, '/metrics')).body;
        return text.includes('postgresql_commits_total{');
      });
      const line = text.split('\n').find((l) => l.startsWith('postgresql_commits_total{'));
      expect(line).toContain(`server_port="${new URL(pgUrl).port}"`);
      expect(line).toContain('db_namespace=');
      expect(text).toContain('# TYPE pgquerylens_collection_batches_total counter');
      expect(receiver.accepted).toHaveLength(0);
      expect(receiver.rejected).toBe(0);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect((await cli.done).code).toBe(0);
  }, 60_000);
});
