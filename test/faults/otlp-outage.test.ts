import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventRecords } from '../../src/adapters/otlp/event-records.js';
import { builtinCollectorNames } from '../../src/collectors/builtin-collectors.js';
import { OTLP_LOGS_DEFAULTS } from '../../src/core/config/otlp-logs-settings.js';
import { startGrpcLogsReceiver } from '../helpers/otlp-logs-receiver.js';
import { startGrpcReceiver, type ReceivedResourceMetrics } from '../helpers/otlp-receiver.js';
import {
  killDaemons,
  outageMs,
  pollUntil,
  rssBytes,
  scrape,
  startDaemon,
  stopLog,
  total,
  writeConfig,
  type Sample,
} from './support/outage-daemon.js';
import { batchesIn, outageWorkDir, removeDir } from './support/outage-datastore.js';
import { OutagePath, type PathState } from './support/outage-path.js';
import { OutageWorkload } from './support/outage-workload.js';

/**
 * Issue 8: the OTLP endpoint (metrics and logs, gRPC) unreachable for two minutes: the network
 * path is cut at a proxy in front of real receivers. The collector must keep collecting, stay
 * within its bounded queues (and so its memory), resume exporting when the path returns, and
 * its counters must account for every log record: produced = delivered + failed + dropped.
 */

const pgUrl = inject('pgUrl');
const INTERVAL_S = 5;
/** Export lanes: batches waiting per adapter. */
const QUEUE_SIZE = 2;
/** OTLP log records waiting or in flight, all targets together. */
const LOG_QUEUE = 40;
const LOG_BATCH = 2;
const EVENTS = { ...OTLP_LOGS_DEFAULTS.events, ashSamples: true };
const ENABLED = ['pg_connectivity', 'pg_stat_database', 'slow_queries', 'active_session_history'];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killDaemons();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const MB = 1024 * 1024;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** PostgreSQL data points (not the collector's own) in these requests. */
function postgresPoints(requests: readonly ReceivedResourceMetrics[][]): number {
  return requests
    .flat()
    .filter((r) => r.resource['db.system.name'] === 'postgresql')
    .flatMap((r) => r.metrics)
    .reduce((n, m) => n + m.points.length, 0);
}

/** The log-record counters of the OTLP logs adapter. */
function logCounters(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of ['emitted', 'exported', 'failed', 'dropped']) {
    out[outcome] = total(samples, 'pgquerylens_export_log_records_total', { outcome });
  }
  out.queued = total(samples, 'pgquerylens_export_log_records_queued');
  return out;
}

describe('a two-minute OTLP outage', () => {
  it('keeps collecting within its bounds, resumes, and counts every lost record', async ({
    annotate,
  }) => {
    // Must hold: collection goes on through the outage; lane queues never exceed their bound,
    // the log-record queue never exceeds maxQueueSize, and resident memory stays flat; new
    // metric points and log records arrive after the path returns; emitted equals the records
    // the batches carried, and emitted - delivered (what the receiver took) = failed + dropped,
    // with drops really happening; no export lane dropped a batch.
    const outage = outageMs();
    const dir = await outageWorkDir('pgql-fault-otlp-');
    cleanups.push(() => removeDir(dir));
    const metricsReceiver = await startGrpcReceiver();
    cleanups.push(() => metricsReceiver.close());
    const logsReceiver = await startGrpcLogsReceiver();
    cleanups.push(() => logsReceiver.close());
    const metricsPath = await OutagePath.start(Number(new URL(metricsReceiver.url).port));
    cleanups.push(() => metricsPath.close());
    const logsPath = await OutagePath.start(logsReceiver.port);
    cleanups.push(() => logsPath.close());
    const setPaths = (state: PathState): Promise<unknown> =>
      Promise.all([metricsPath.set(state), logsPath.set(state)]);
    const workload = await OutageWorkload.start(pgUrl, 6);
    cleanups.push(() => workload.stop());

    const output = path.join(dir, 'batches.ndjson');
    const config = await writeConfig(dir, {
      mode: 'otel',
      interval: `${INTERVAL_S}s`,
      targets: [{ name: 'fault-otlp', url: pgUrl, databases: ['postgres'] }],
      collectors: Object.fromEntries(
        builtinCollectorNames().map((name) => [name, { enabled: ENABLED.includes(name) }]),
      ),
      queryPerformance: { ash: { rawSamples: true } },
      otlp: {
        protocol: 'grpc',
        endpoint: `http://127.0.0.1:${metricsPath.port}`,
        exportInterval: `${INTERVAL_S}s`,
        timeout: '2s',
        logs: {
          endpoint: `http://127.0.0.1:${logsPath.port}`,
          events: EVENTS,
          maxQueueSize: LOG_QUEUE,
          maxExportBatchSize: LOG_BATCH,
        },
      },
      output: { format: 'json', path: output },
      export: { queueSize: QUEUE_SIZE },
      log: { level: 'info' },
    });
    const daemon = startDaemon(config);
    const port = await daemon.telemetryPort();
    const logged = (msg: string): number => daemon.logs().filter((r) => r.msg === msg).length;

    let maxLaneDepth = 0;
    let maxLogQueue = 0;
    const observe = async (): Promise<Sample[]> => {
      const samples = await scrape(port);
      for (const s of samples.filter((x) => x.name === 'pgquerylens_export_queue_depth')) {
        maxLaneDepth = Math.max(maxLaneDepth, s.value);
      }
      maxLogQueue = Math.max(maxLogQueue, logCounters(samples).queued ?? 0);
      return samples;
    };

    // Warm: both signals delivered, then a baseline of resident memory.
    await pollUntil(
      'metrics and log records delivered',
      () => postgresPoints(metricsReceiver.requests) > 0 && logsReceiver.records().length > 0,
      60_000,
      () => daemon.stderr(),
    );
    const baseline: number[] = [];
    for (let i = 0; i < 6; i++) {
      baseline.push(await rssBytes(daemon.pid));
      await observe();
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const beforeSamples = await observe();
    const before = logCounters(beforeSamples);

    // The path to the endpoint breaks: first blackholed (the host gone: exports hang until
    // their timeout), then refused (the endpoint stopped: exports fail at once).
    await setPaths('blackholed');
    const downAt = Date.now();
    let blackholedPhase: Record<string, number> | undefined;
    const batchesAtCut = total(await observe(), 'pgquerylens_collection_batches_total');
    let metricRequestsInOutage = -1;
    let logRequestsInOutage = -1;
    const during: number[] = [];
    while (Date.now() - downAt < outage) {
      expect(daemon.running(), daemon.stderr()).toBe(true);
      // Settled a moment after the cut (a request in flight may still have landed).
      if (metricRequestsInOutage < 0 && Date.now() - downAt > 1_000) {
        metricRequestsInOutage = metricsReceiver.requests.length;
        logRequestsInOutage = logsReceiver.requests.length;
      }
      if (blackholedPhase === undefined && Date.now() - downAt >= outage / 2) {
        blackholedPhase = logCounters(await observe());
        await setPaths('refused');
      }
      during.push(await rssBytes(daemon.pid));
      await observe();
      await new Promise((r) => setTimeout(r, Math.min(2_000, outage - (Date.now() - downAt))));
    }
    const atEnd = await observe();
    const outageCounters = logCounters(atEnd);
    // Nothing got through, and collection went on: a batch per interval, give or take.
    expect(metricsReceiver.requests.length).toBe(metricRequestsInOutage);
    expect(logsReceiver.requests.length).toBe(logRequestsInOutage);
    expect(
      total(atEnd, 'pgquerylens_collection_batches_total') - batchesAtCut,
    ).toBeGreaterThanOrEqual(Math.floor(outage / 1000 / INTERVAL_S) - 2);
    // Blackholed: exports hung, the bounded log queue filled and overflowed, and the overflow
    // was counted as dropped. Refused: the exports failed, and were counted so.
    const counted = JSON.stringify({ before, blackholedPhase, outageCounters, maxLogQueue });
    expect(blackholedPhase?.dropped, counted).toBeGreaterThan(before.dropped ?? 0);
    expect(outageCounters.failed, counted).toBeGreaterThan(blackholedPhase?.failed ?? 0);
    // Metric pushes that failed are counted too (the lane only sees readings recorded).
    const pushes = (samples: Sample[], outcome: string): number =>
      total(samples, 'pgquerylens_export_metric_pushes_total', { adapter: 'otlp', outcome });
    expect(pushes(atEnd, 'failed')).toBeGreaterThan(pushes(beforeSamples, 'failed'));

    // The path returns: export resumes by itself.
    await setPaths('open');
    const upAt = Date.now();
    const pointsAtRestore = postgresPoints(metricsReceiver.requests);
    const recordsAtRestore = logsReceiver.records().length;
    await pollUntil(
      'new metric points and log records',
      () =>
        postgresPoints(metricsReceiver.requests) > pointsAtRestore &&
        logsReceiver.records().length > recordsAtRestore,
      90_000,
      () => daemon.stderr(),
    );
    const recoveryMs = Date.now() - upAt;
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      after.push(await rssBytes(daemon.pid));
      await observe();
      await new Promise((r) => setTimeout(r, 1_000));
    }

    // A settled moment: nothing queued, every lane caught up with collection, the receiver
    // has what the counters call exported.
    let settled: { samples: Sample[]; delivered: number } | undefined;
    let last = '';
    await pollUntil(
      'counters settled',
      async () => {
        const samples = await observe();
        const delivered = logsReceiver.records().length;
        const c = logCounters(samples);
        const batches = total(samples, 'pgquerylens_collection_batches_total');
        const lanesCaughtUp = ['otlp', 'otlp-logs', 'json'].every(
          (adapter) =>
            total(samples, 'pgquerylens_export_batches_total', { adapter, outcome: 'exported' }) +
              total(samples, 'pgquerylens_export_batches_total', {
                adapter,
                outcome: 'dropped',
              }) ===
            batches,
        );
        last = JSON.stringify({ ...c, delivered, batches, lanesCaughtUp });
        if (c.queued !== 0 || c.exported !== delivered || !lanesCaughtUp) return false;
        settled = { samples, delivered };
        return true;
      },
      60_000,
      () => last,
      100,
    );
    const final = settled!;
    expect(pushes(final.samples, 'exported')).toBeGreaterThan(pushes(atEnd, 'exported'));
    const counters = logCounters(final.samples);
    daemon.child.kill('SIGTERM');
    const result = await daemon.exited;
    expect(result.code, result.stderr).toBe(0);

    // Emitted is what the batches carried: recomputed from the JSON-lines copy of each batch.
    const handed = total(final.samples, 'pgquerylens_export_batches_total', {
      adapter: 'otlp-logs',
      outcome: 'exported',
    });
    const batches = (await batchesIn(output)).slice(0, handed);
    expect(batches.length).toBe(handed);
    const carried = batches.reduce((n, b) => n + eventRecords(b, EVENTS).length, 0);
    expect(counters.emitted).toBe(carried);
    // The truth of the drop counters: produced - delivered = failed + dropped.
    const emitted = counters.emitted ?? 0;
    expect(emitted - final.delivered, last).toBe((counters.failed ?? 0) + (counters.dropped ?? 0));
    // Delivered records are exactly those counted as exported (and each is a real record).
    expect(counters.exported).toBe(final.delivered);

    // Bounds: lanes hold QUEUE_SIZE waiting plus the one in delivery; the log queue its maximum.
    expect(maxLaneDepth).toBeLessThanOrEqual(QUEUE_SIZE + 1);
    expect(maxLogQueue).toBeLessThanOrEqual(LOG_QUEUE);
    const base = median(baseline);
    const rss = {
      baselineMb: Math.round(base / MB),
      peakInOutageMb: Math.round(Math.max(...during) / MB),
      lateOutageMb: Math.round(median(during.slice(-10)) / MB),
      afterMb: Math.round(median(after) / MB),
      recoveryMs,
    };
    await annotate(
      JSON.stringify({
        outageS: outage / 1000,
        before,
        blackholedPhase,
        counters,
        maxLaneDepth,
        maxLogQueue,
        ...rss,
      }),
    );
    // Flat memory: no backlog accumulates, whatever the outage's length.
    expect(Math.max(...during) - base, JSON.stringify(rss)).toBeLessThan(48 * MB);
    expect(
      median(during.slice(-10)) - median(during.slice(0, 10)),
      JSON.stringify(rss),
    ).toBeLessThan(24 * MB);

    // Outages are reported once each way, not per failed export.
    const metricFailures = logged(
      'OTLP metric export failed; the latest readings are sent when it is back',
    );
    expect(metricFailures).toBeGreaterThanOrEqual(1);
    expect(metricFailures).toBeLessThanOrEqual(2);
    expect(logged('OTLP metric export recovered')).toBe(metricFailures);
    expect(logged('OTLP log export failed')).toBeGreaterThanOrEqual(1);
    expect(logged('OTLP log export recovered')).toBeGreaterThanOrEqual(1);
    const stopped = stopLog(daemon);
    for (const lane of ['otlp', 'otlp-logs', 'json']) {
      expect(stopped.export?.[lane]?.dropped, lane).toBe(0);
    }
  }, 240_000);
});
