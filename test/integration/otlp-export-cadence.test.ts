import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OtlpMetricsAdapter } from '../../src/adapters/otlp/otlp-metrics-adapter.js';
import type { UnifiedMetrics } from '../../src/core/model/unified-metrics.js';
import { sleep } from '../../src/core/timeout.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';
import { startGrpcReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { otlpTestSettings } from '../helpers/otlp-settings.js';
import { probeBatch } from '../helpers/semantic-batch.js';

const pgUrl = inject('pgUrl');
const major = inject('pgMajor');

/**
 * A target whose series set loses a member on almost every batch (sessions moving between states
 * and wait events do this on any busy server) must still export on its own cadence. The SDK
 * keeps exporting a series it once saw, so a lost one means a new provider; a new provider used
 * to restart the export countdown, and batches closer together than the export interval meant
 * no export at all.
 */
describe('OTLP metrics export cadence', () => {
  let receiver: OtlpReceiver;
  let adapter: OtlpMetricsAdapter;
  let withTable: UnifiedMetrics;
  let withoutTable: UnifiedMetrics;
  const EXPORT_INTERVAL_MS = 1_000;

  beforeAll(async () => {
    const dbUrl = await freshDatabase(pgUrl, 'pgql_cadence');
    const db = new URL(dbUrl).pathname.slice(1);
    const target = { name: 'cadence', host: '127.0.0.1', port: 5432, labels: {} };
    await queryOnce(dbUrl, 'CREATE TABLE flicker (id int); INSERT INTO flicker VALUES (1)');
    withTable = await probeBatch(dbUrl, db, major, target);
    await queryOnce(dbUrl, 'DROP TABLE flicker');
    withoutTable = await probeBatch(dbUrl, db, major, target);
    receiver = await startGrpcReceiver();
    adapter = new OtlpMetricsAdapter({
      settings: otlpTestSettings({
        endpoint: receiver.url,
        exportIntervalMs: EXPORT_INTERVAL_MS,
        timeoutMs: 900,
      }),
      version: 'test',
    });
  }, 60_000);

  afterAll(async () => {
    await adapter?.shutdown();
    await receiver?.close();
  });

  const flickerSeries = (request: OtlpReceiver['requests'][number]): number =>
    request
      .flatMap((rm) => rm.metrics)
      .flatMap((m) => m.points)
      .filter((p) => p.attributes['db.collection.name'] === 'flicker').length;

  it('exports every interval while series come and go on every batch', async () => {
    const start = Date.now();
    let i = 0;
    // A batch every 300 ms for 5 s, every other one without the table: 16 lost-series events.
    while (Date.now() - start < 5_000) {
      await adapter.export(i % 2 === 0 ? withTable : withoutTable);
      i += 1;
      await sleep(300);
    }
    const requests = receiver.requests.length;
    // Five intervals elapsed; allow for the first one and for timer jitter.
    expect(requests).toBeGreaterThanOrEqual(3);
    expect(requests).toBeLessThanOrEqual(6);
    // Once the table stays away, the next export drops its series.
    await adapter.export(withoutTable);
    const before = receiver.requests.length;
    await sleep(EXPORT_INTERVAL_MS * 2.5);
    const after = receiver.requests.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const r of after) expect(flickerSeries(r)).toBe(0);
  }, 30_000);
});
