import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedServer } from '../../src/cli/embedded/embedded-server.js';
import { OtlpLogsAdapter } from '../../src/adapters/otlp/otlp-logs-adapter.js';
import { QUERY_PERFORMANCE_DEFAULTS } from '../../src/core/config/query-performance-settings.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import type { SelfMetricPoint } from '../../src/core/self-telemetry.js';
import { settlesWithin } from '../../src/core/timeout.js';
import {
  startGrpcLogsReceiver,
  startHttpLogsReceiver,
  type OtlpLogsReceiver,
  type ReceivedLogRecord,
} from '../helpers/otlp-logs-receiver.js';
import {
  privateServer,
  QueryPerformanceHarness,
  testSettings,
} from '../helpers/query-performance-harness.js';
import { otlpLogsTestSettings, otlpTestSettings } from '../helpers/otlp-settings.js';

const DB = 'otlplogs';
const LITERAL = 'secret-literal-4711';
let server: EmbeddedServer;
let url: string;
let superuser: () => Promise<pg.Client>;
let major: number;
const clients: pg.Client[] = [];
/** Every batch the workload produced, in collection order. */
let batches: UnifiedMetrics[] = [];

async function client(): Promise<pg.Client> {
  const c = await superuser();
  // A cancelled or terminated session must not crash the test run.
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The adapter's counters by outcome, and its queue depth. */
function counts(adapter: OtlpLogsAdapter): Record<string, number> {
  const points: SelfMetricPoint[] = adapter.selfMetrics();
  const out: Record<string, number> = {};
  for (const p of points) {
    if (p.name === 'pgquerylens.export.log_records') out[p.attributes.outcome ?? '?'] = p.value;
    if (p.name === 'pgquerylens.export.log_records.queued') out.depth = p.value;
  }
  return out;
}

function byName(records: ReceivedLogRecord[], name: string): ReceivedLogRecord[] {
  return records.filter((r) => r.eventName === name);
}

beforeAll(async () => {
  ({ server, url, superuser } = await privateServer(DB));
  major = server.major;
  batches = await workload();
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server?.stop();
});

/**
 * Real slow queries, executions, a lock-wait chain, plans and a plan change, each statement
 * carrying LITERAL, collected through the real query-performance collectors.
 */
async function workload(): Promise<UnifiedMetrics[]> {
  const settings = testSettings({
    ash: {
      ...QUERY_PERFORMANCE_DEFAULTS.ash,
      intervalMs: 60_000,
      timeoutMs: 5_000,
      rawSamples: true,
    },
  });
  const h = new QueryPerformanceHarness(url, [DB], settings, 'logs-test');
  const out: UnifiedMetrics[] = [];
  try {
    const admin = await client();
    await admin.query('CREATE TABLE notes (id int PRIMARY KEY, note text)');
    await admin.query('INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 20000) g');
    await admin.query('ANALYZE notes');
    await h.collect('slow_queries');
    const lookup = async (): Promise<void> => {
      for (let i = 0; i < 6; i++) {
        await admin.query(`SELECT count(*) FROM notes WHERE note = '${LITERAL}'`);
      }
    };
    await lookup();

    const sleeper = await client();
    const sleeping = sleeper
      .query(`SELECT pg_sleep(1.5), count(*) FROM notes WHERE note = '${LITERAL}'`)
      .catch(() => undefined);
    const root = await client();
    const waiter = await client();
    await root.query('BEGIN');
    await root.query(`UPDATE notes SET note = '${LITERAL}' WHERE id = 1`);
    const waiting = waiter
      .query(`UPDATE notes SET note = '${LITERAL}-b' WHERE id = 1`)
      .catch(() => undefined);
    await until('the sleeper and the lock wait', async () => {
      const r = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = $1 AND wait_event IN ('PgSleep', 'transactionid')`,
        [DB],
      );
      return Number(r.rows[0]?.n) >= 2;
    });
    await h.tick(2);
    out.push(await h.collect('blocking_sessions'));
    await root.query('ROLLBACK');
    await Promise.all([sleeping, waiting]);

    out.push(await h.collect('slow_queries'));
    out.push(await h.collect('execution_plans'));
    // An index changes the lookup's plan: a plan change.
    await admin.query('CREATE INDEX notes_note ON notes (note)');
    await admin.query('ANALYZE notes');
    await lookup();
    out.push(await h.collect('slow_queries'));
    out.push(await h.collect('execution_plans'));
    out.push(await h.collect('active_session_history'));
  } finally {
    await h.close();
  }
  return out;
}

describe('the workload (preconditions)', () => {
  it('produced every kind of event record', () => {
    const all = (key: keyof UnifiedMetrics) => batches.flatMap((b) => b[key] as unknown[]);
    expect(all('slowQueries').length).toBeGreaterThan(0);
    expect(all('blockingSessions').length).toBeGreaterThan(0);
    expect(all('executionPlans').length).toBeGreaterThan(0);
    expect(all('planChanges').length).toBeGreaterThan(0);
    expect(all('ashSamples').length).toBeGreaterThan(0);
    if (major >= 14) expect(all('individualQueries').length).toBeGreaterThan(0);
  });
});

describe.each([
  {
    protocol: 'http/protobuf' as const,
    compression: 'gzip' as const,
    start: () => startHttpLogsReceiver(),
    contentType: 'application/x-protobuf',
  },
  {
    protocol: 'http/json' as const,
    compression: 'none' as const,
    start: () => startHttpLogsReceiver(),
    contentType: 'application/json',
  },
  {
    protocol: 'grpc' as const,
    compression: 'gzip' as const,
    start: () => startGrpcLogsReceiver(),
    contentType: 'application/grpc',
  },
])('events as OTLP logs over $protocol', ({ protocol, compression, start, contentType }) => {
  let receiver: OtlpLogsReceiver;
  let adapter: OtlpLogsAdapter;
  let records: ReceivedLogRecord[];

  beforeAll(async () => {
    receiver = await start();
    adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({
        protocol,
        compression,
        endpoint: receiver.url,
        headers: { 'x-tenant': 'team-a' },
      }),
      metrics: otlpTestSettings(),
      version: '9.9.9-test',
    });
    for (const b of batches) await adapter.export(b);
    await adapter.forceFlush();
    records = receiver.records();
  });

  afterAll(async () => {
    await adapter?.shutdown();
    await receiver?.close();
  });

  it('delivers every emitted record, counted, with headers and the content type', () => {
    const c = counts(adapter);
    expect(c.emitted).toBeGreaterThan(0);
    expect(c).toMatchObject({ exported: c.emitted, failed: 0, dropped: 0, depth: 0 });
    expect(records).toHaveLength(c.emitted!);
    for (const q of receiver.requests) {
      expect(q.contentType).toContain(contentType);
      expect(q.headers['x-tenant']).toBe('team-a');
    }
    expect(adapter.health()).toEqual({ reachable: true });
  });

  it('puts the server in the resource, as the metrics do', () => {
    const target = batches[0]!.target;
    for (const q of receiver.requests) {
      for (const rl of q.resourceLogs) {
        expect(rl.resource).toMatchObject({
          'server.address': target.host,
          'server.port': target.port,
          'db.system.name': 'postgresql',
          'service.name': 'pgquerylens-test',
          'deployment.environment.name': 'ci',
        });
        expect(rl.resource['service.instance.id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
        expect(rl.scopes.every((s) => s.name === 'pgquerylens' && s.version === '9.9.9-test')).toBe(
          true,
        );
      }
    }
  });

  it('sends slow queries as db.server.top_query with times in seconds', () => {
    const top = byName(records, 'db.server.top_query');
    const lookup = batches
      .flatMap((b) => b.slowQueries)
      .find(
        (q) => /FROM notes WHERE note = \$1/.test(q.queryText) && !q.queryText.includes('pg_sleep'),
      );
    expect(lookup, 'the lookup ranked').toBeDefined();
    const received = top.find(
      (r) =>
        r.attributes['postgresql.queryid'] === lookup!.queryId &&
        BigInt(r.timeUnixNano ?? '0') === BigInt(Date.parse(lookup!.collectedAt)) * 1_000_000n,
    );
    expect(received, 'the lookup as a top query').toBeDefined();
    expect(received!.severityNumber).toBe(9);
    expect(received!.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': DB,
      'db.operation.name': 'SELECT',
      'db.query.text': lookup!.queryText,
      'postgresql.calls': 6,
      'postgresql.toplevel': true,
    });
    expect(received!.intKeys.has('postgresql.calls')).toBe(true);
    expect(received!.attributes['postgresql.total_exec_time']).toBeCloseTo(
      lookup!.totalExecTimeMs / 1000,
      6,
    );
    expect(received!.body).toMatch(/6 calls/);
  });

  it('sends executions and raw ASH samples as db.server.query_sample', () => {
    const samples = byName(records, 'db.server.query_sample');
    const ash = samples.filter((r) => r.attributes['postgresql.sample.kind'] === 'session');
    const sleeping = ash.find((r) => r.attributes['postgresql.wait_event'] === 'PgSleep');
    expect(sleeping?.attributes).toMatchObject({
      'db.namespace': DB,
      'postgresql.state': 'active',
      'postgresql.wait_event_type': 'Timeout',
      'postgresql.sample.source': 'ash',
    });
    expect(String(sleeping?.attributes['db.query.text'])).toMatch(/pg_sleep/);
    const waiting = ash.find((r) => r.attributes['postgresql.wait_event_type'] === 'Lock');
    expect(String(waiting?.attributes['db.query.text'])).toMatch(/UPDATE notes SET note = \?/);
    if (major >= 14) {
      const executions = samples.filter(
        (r) => r.attributes['postgresql.sample.kind'] === 'execution',
      );
      const slept = executions.find((r) => /pg_sleep/.test(String(r.attributes['db.query.text'])));
      expect(slept?.attributes['postgresql.query_id']).toMatch(/^-?\d+$/);
      expect(slept?.attributes['postgresql.total_exec_time']).toBeGreaterThan(0);
      // Milliseconds, as the receiver's query_sample.
      expect(slept?.attributes['postgresql.total_exec_time']).toBeLessThan(60_000);
    }
  });

  it('sends plans as flattened nodes and the plan change', () => {
    const plans = byName(records, 'postgresql.query.plan');
    expect(plans.length).toBeGreaterThan(0);
    for (const p of plans) {
      expect(p.attributes['postgresql.plan.hash']).toMatch(/^[0-9a-f]{16}$/);
      const nodes = JSON.parse(String(p.attributes['postgresql.query_plan'])) as {
        node_type: string;
      }[];
      expect(nodes.length).toBe(p.attributes['postgresql.plan.node_count']);
    }
    expect(
      plans.some((p) =>
        String(p.attributes['postgresql.query_plan']).includes('"relation":"notes"'),
      ),
    ).toBe(true);
    const changes = byName(records, 'postgresql.plan.change');
    const expected = batches.flatMap((b) => b.planChanges);
    expect(changes).toHaveLength(expected.length);
    expect(changes[0]?.attributes).toMatchObject({
      'postgresql.plan.change.kind': expected[0]!.kind,
      'postgresql.plan.hash': expected[0]!.newPlanHash,
      'postgresql.queryid': expected[0]!.queryId,
    });
  });

  it('sends the lock wait as postgresql.blocking with both statements', () => {
    const edges = byName(records, 'postgresql.blocking');
    const edge = batches.flatMap((b) => b.blockingSessions)[0]!;
    const received = edges.find((r) => r.attributes['postgresql.blocked.pid'] === edge.blockedPid);
    expect(received?.attributes).toMatchObject({
      'db.namespace': DB,
      'postgresql.blocking.pid': edge.blockingPid,
      'postgresql.blocking.root_pid': edge.rootBlockingPid,
      'postgresql.blocking.depth': 1,
      'postgresql.blocking.state': 'idle in transaction',
    });
    expect(String(received?.attributes['db.query.text'])).toMatch(/UPDATE notes SET note = \?/);
    expect(String(received?.attributes['postgresql.blocking.query.text'])).toMatch(/UPDATE notes/);
  });

  it('never sends the literal, in any attribute or body', () => {
    // The bodies are searchable as sent (decompressed): the statements' shapes are there.
    expect(receiver.requests.some((q) => q.raw.includes('UPDATE notes SET note = ?'))).toBe(true);
    for (const q of receiver.requests) expect(q.raw.includes(LITERAL)).toBe(false);
  });
});

describe('an endpoint that fails', () => {
  it('keeps accepting, drops beyond the queue and counts, then delivers when it recovers', async () => {
    const receiver = await startHttpLogsReceiver();
    receiver.setMode({ kind: 'fail' });
    const maxQueueSize = 10;
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({
        endpoint: receiver.url,
        timeoutMs: 1_500,
        maxQueueSize,
        maxExportBatchSize: 5,
      }),
      metrics: otlpTestSettings(),
      version: 'test',
    });
    try {
      // No I/O completes between these exports, so nothing settles: the queue is exact. Two
      // targets share the one bound: memory in an outage does not grow with the fleet.
      for (let i = 0; i < 50; i++) {
        for (const b of batches) {
          await adapter.export(b);
          await adapter.export({ ...b, target: { ...b.target, name: 'second' } });
        }
        expect(counts(adapter).depth).toBeLessThanOrEqual(maxQueueSize);
      }
      const burst = counts(adapter);
      expect(burst.depth).toBe(maxQueueSize);
      expect(burst.dropped).toBe(burst.emitted! - maxQueueSize);

      await until('a failed export', () => (counts(adapter).failed ?? 0) > 0);
      expect(receiver.refused).toBeGreaterThan(0);
      expect(adapter.health().reachable).toBe(false);
      expect(adapter.health().detail).toMatch(/\w/);
      const failing = counts(adapter);
      expect(failing.emitted).toBe(
        failing.exported! + failing.failed! + failing.dropped! + failing.depth!,
      );

      receiver.setMode({ kind: 'ok' });
      await until('the queue to drain', () => counts(adapter).depth === 0);
      const before = receiver.records().length;
      await adapter.export(batches[0]!);
      await adapter.forceFlush();
      expect(receiver.records().length).toBeGreaterThan(before);
      expect(adapter.health()).toEqual({ reachable: true });
      const after = counts(adapter);
      expect(after.exported).toBeGreaterThan(0);
      expect(after.emitted).toBe(after.exported! + after.failed! + after.dropped!);
    } finally {
      await adapter.shutdown();
      await receiver.close();
    }
  });

  it('survives a gRPC endpoint that is not listening, and delivers once it is', async () => {
    const gone = await startGrpcLogsReceiver();
    const port = gone.port;
    await gone.close();
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({
        protocol: 'grpc',
        endpoint: `http://127.0.0.1:${port}`,
        timeoutMs: 1_000,
      }),
      metrics: otlpTestSettings(),
      version: 'test',
    });
    let receiver: OtlpLogsReceiver | undefined;
    try {
      await adapter.export(batches[0]!);
      await until('a failed export', () => (counts(adapter).failed ?? 0) > 0);
      expect(adapter.health().reachable).toBe(false);

      receiver = await startGrpcLogsReceiver({ port });
      const live = receiver;
      // The channel reconnects with its own backoff: keep emitting until something lands.
      await until(
        'records at the restarted receiver',
        async () => {
          await adapter.export(batches[0]!);
          await adapter.forceFlush();
          return live.records().length > 0;
        },
        30_000,
      );
      expect(adapter.health().reachable).toBe(true);
    } finally {
      await adapter.shutdown();
      await receiver?.close();
    }
  }, 60_000);
});

describe('shutdown and retirement', () => {
  it('flushes queued records to a live receiver on shutdown', async () => {
    const receiver = await startHttpLogsReceiver();
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({ endpoint: receiver.url }),
      metrics: otlpTestSettings(),
      version: 'test',
    });
    try {
      for (const b of batches) await adapter.export(b);
      const queued = counts(adapter);
      expect(queued.depth).toBe(queued.emitted);
      expect(receiver.requests).toHaveLength(0);
      await adapter.shutdown();
      expect(receiver.records()).toHaveLength(queued.emitted!);
      // Closed: later batches are ignored, not queued.
      await adapter.export(batches[0]!);
      expect(counts(adapter).emitted).toBe(queued.emitted);
    } finally {
      await adapter.shutdown();
      await receiver.close();
    }
  });

  it('does not hang shutdown on an endpoint that never answers', async () => {
    const receiver = await startHttpLogsReceiver();
    receiver.setMode({ kind: 'slow', ms: 120_000 });
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({ endpoint: receiver.url, timeoutMs: 1_000 }),
      metrics: otlpTestSettings(),
      version: 'test',
    });
    try {
      await adapter.export(batches[0]!);
      expect(counts(adapter).depth).toBeGreaterThan(0);
      expect(await settlesWithin(adapter.shutdown(), 15_000)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('flushes and releases a target not seen for five minutes', async () => {
    const receiver = await startHttpLogsReceiver();
    let now = 1_000_000;
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({ endpoint: receiver.url }),
      metrics: otlpTestSettings(),
      version: 'test',
      now: () => now,
    });
    const first = batches[1]!;
    const other = { ...first, target: { ...first.target, name: 'other', port: 6543 } };
    try {
      await adapter.export(first);
      const emitted = counts(adapter).emitted!;
      now += 299_000;
      await adapter.export(other);
      expect(receiver.requests).toHaveLength(0);
      now += 2_000;
      await adapter.export(other);
      // The first target's provider was shut down, which flushes its queue.
      const ofFirst = (): number =>
        receiver.requests
          .flatMap((q) => q.resourceLogs)
          .filter((rl) => rl.resource['server.port'] === first.target.port)
          .reduce((n, rl) => n + rl.records.length, 0);
      await until('the retired target to flush', () => ofFirst() === emitted);
    } finally {
      await adapter.shutdown();
      await receiver.close();
    }
  });
});
