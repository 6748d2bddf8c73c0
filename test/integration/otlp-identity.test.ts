import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpLogsAdapter } from '../../src/adapters/otlp/otlp-logs-adapter.js';
import { OtlpMetricsAdapter } from '../../src/adapters/otlp/otlp-metrics-adapter.js';
import { OTLP_LOGS_DEFAULTS } from '../../src/core/config/otlp-logs-settings.js';
import type { OtlpSettings } from '../../src/core/config/otlp-settings.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { fakeBatch } from '../helpers/batches.js';
import { startHttpLogsReceiver } from '../helpers/otlp-logs-receiver.js';
import { startGrpcReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpLogsTestSettings, otlpTestSettings } from '../helpers/otlp-settings.js';

let metricsReceiver: OtlpReceiver;
let logsReceiver: Awaited<ReturnType<typeof startHttpLogsReceiver>>;

beforeAll(async () => {
  metricsReceiver = await startGrpcReceiver();
  logsReceiver = await startHttpLogsReceiver();
});

afterAll(async () => {
  await metricsReceiver?.close();
  await logsReceiver?.close();
});

const metrics = (): OtlpSettings => otlpTestSettings({ endpoint: metricsReceiver.url });

/** A batch of `name` on `host`, with one database reading and one slow query. */
function batchOn(name: string, host: string): UnifiedMetrics {
  const b = fakeBatch(1, name);
  const at = b.metadata.startedAt;
  return {
    ...b,
    target: { ...b.target, host },
    probes: [
      {
        probe: 'pg_stat_database',
        scope: 'server',
        collectedAt: at,
        rows: [{ datname: 'app', xact_commit: 5 }],
      },
    ],
    slowQueries: [
      {
        queryId: '1',
        queryText: 'SELECT ?',
        databaseName: 'app',
        statementType: 'SELECT',
        toplevel: true,
        intervalSeconds: 30,
        calls: 3,
        totalExecTimeMs: 30,
        meanExecTimeMs: 10,
        rows: 3,
        avgDiskReads: 0,
        avgDiskWrites: 0,
        collectedAt: at,
      },
    ],
  };
}

describe('a target whose name now points at another server', () => {
  it('gets a new resource for its metrics, and the old server’s series stop', async () => {
    const adapter = new OtlpMetricsAdapter({ settings: metrics(), version: 'test' });
    await adapter.export(batchOn('moved', 'db-old'));
    await adapter.forceFlush();
    await adapter.export(batchOn('moved', 'db-new'));
    const before = metricsReceiver.requests.length;
    await adapter.forceFlush();
    const after = metricsReceiver.requests.slice(before).flat();
    expect(after.map((r) => r.resource['server.address'])).toEqual(['db-new']);
    await adapter.shutdown();
  });

  it('gets a new resource for its events', async () => {
    const adapter = new OtlpLogsAdapter({
      settings: otlpLogsTestSettings({
        endpoint: logsReceiver.url,
        events: { ...OTLP_LOGS_DEFAULTS.events },
      }),
      metrics: metrics(),
      version: 'test',
    });
    await adapter.export(batchOn('moved-logs', 'db-old'));
    await adapter.export(batchOn('moved-logs', 'db-new'));
    await adapter.shutdown();
    const hosts = logsReceiver.requests
      .flatMap((r) => r.resourceLogs)
      .map((rl) => rl.resource['server.address']);
    expect(hosts).toContain('db-old');
    expect(hosts).toContain('db-new');
  });
});
