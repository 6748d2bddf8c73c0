import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { pendingFromBatch } from '../../src/adapters/datastore/pending-batch.js';
import { startGrpcReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { queryOnce } from '../helpers/fresh-database.js';
import {
  killDaemons,
  outageMs,
  pollUntil,
  readiness,
  scrape,
  startDaemon,
  stopLog,
  total,
  writeConfig,
} from './support/outage-daemon.js';
import {
  batchesIn,
  duplicateRows,
  outageWorkDir,
  producedSamples,
  removeDir,
  RestartableDatastore,
  sampleDifferences,
  storedSamples,
  DATABASE_SCOPED,
  OUTAGE_PROBES,
  outageCollectors,
} from './support/outage-datastore.js';

/**
 * Issue 8: the history datastore stopped for two minutes under a hybrid-mode collector (NRI on
 * stdout, OTLP to a real receiver, the datastore), then started again. Every row the collector
 * produced, as its JSON-lines output shows, must be in the datastore exactly once.
 */

const pgUrl = inject('pgUrl');
const INTERVAL_S = 5;
const QUEUE_SIZE = 5;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killDaemons();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function storedOf(url: string, probe: string): Promise<number> {
  try {
    const rows = await queryOnce<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM metrics.${probe}`,
    );
    return rows[0]?.n ?? 0;
  } catch {
    // The schema is not there yet.
    return 0;
  }
}

describe('a two-minute datastore outage under a hybrid collector', () => {
  it('stores every produced row exactly once after the datastore returns', async ({ annotate }) => {
    // Must hold: stored samples (probe, database, collected_at → rows) equal the produced ones
    // exactly, no row twice, every batch in the ingest ledger once, collection never paused, the
    // outage is visible (readiness, failed writes), nothing was dropped anywhere.
    const outage = outageMs();
    const dir = await outageWorkDir('pgql-fault-ds-');
    cleanups.push(() => removeDir(dir));
    const datastore = await RestartableDatastore.start(path.join(dir, 'store'));
    cleanups.push(() => datastore.close());
    const receiver: OtlpReceiver = await startGrpcReceiver();
    cleanups.push(() => receiver.close());
    const output = path.join(dir, 'batches.ndjson');
    const config = await writeConfig(dir, {
      mode: 'hybrid',
      interval: `${INTERVAL_S}s`,
      targets: [{ name: 'fault-datastore', url: pgUrl, databases: ['postgres'] }],
      collectors: outageCollectors(),
      nri: { stateDir: path.join(dir, 'nri-state') },
      otlp: {
        protocol: 'grpc',
        endpoint: receiver.url,
        exportInterval: `${INTERVAL_S}s`,
        timeout: '2s',
        logs: { enabled: false },
      },
      output: { format: 'json', path: output },
      datastore: { url: datastore.collectorUrl() },
      export: { queueSize: QUEUE_SIZE },
      log: { level: 'info' },
    });

    const daemon = startDaemon(config);
    const port = await daemon.telemetryPort();
    const logged = (msg: string): number => daemon.logs().filter((r) => r.msg === msg).length;

    // A few cycles stored before the outage.
    await pollUntil(
      'rows stored before the outage',
      async () => (await storedOf(datastore.directUrl(), 'pg_connectivity')) >= 2,
      60_000,
      () => daemon.stderr(),
    );

    // The datastore goes away for real, for the whole outage; collection must go on.
    await datastore.stop();
    const downAt = Date.now();
    const batchesAtStop = (await batchesIn(output)).length;
    let sawNotReady = false;
    let maxQueue = 0;
    while (Date.now() - downAt < outage) {
      expect(daemon.running(), daemon.stderr()).toBe(true);
      const ready = await readiness(port);
      if (ready.status === 503 && ready.failing.includes('adapter:datastore')) sawNotReady = true;
      const samples = await scrape(port);
      for (const s of samples.filter((x) => x.name === 'pgquerylens_export_queue_depth')) {
        maxQueue = Math.max(maxQueue, s.value);
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, outage - (Date.now() - downAt))));
    }
    const batchesInOutage = (await batchesIn(output)).length - batchesAtStop;
    // One batch per interval, give or take the edges and a loaded machine.
    expect(batchesInOutage).toBeGreaterThanOrEqual(Math.floor(outage / 1000 / INTERVAL_S) - 2);
    expect(logged('datastore unavailable; buffering and retrying')).toBe(1);
    expect(sawNotReady, 'readiness must say the datastore is down during the outage').toBe(true);

    await datastore.restart();
    const upAt = Date.now();
    const otlpRequestsAtRestart = receiver.requests.length;
    // The writer retries at most every 30 s (with jitter), then writes the backlog.
    await pollUntil(
      'the datastore reachable again',
      () => logged('datastore reachable again') >= 1,
      60_000,
      () => daemon.stderr(),
    );
    const reconnectMs = Date.now() - upAt;
    const batchesAtRestart = (await batchesIn(output)).length;
    // Caught up while still running (not only by the flush at shutdown), a few cycles later.
    await pollUntil(
      'the backlog written and new cycles stored',
      async () => {
        const batches = await batchesIn(output);
        const produced = batches
          .flatMap((b) => b.probes)
          .filter((s) => s.probe === 'pg_connectivity')
          .reduce((n, s) => n + s.rows.length, 0);
        return (
          batches.length >= batchesAtRestart + 2 &&
          (await storedOf(datastore.directUrl(), 'pg_connectivity')) === produced
        );
      },
      60_000,
    );
    let lastReadiness = '';
    await pollUntil(
      'ready again',
      async () => {
        const ready = await readiness(port);
        lastReadiness = JSON.stringify(ready);
        return ready.status === 200;
      },
      30_000,
      () => lastReadiness,
    );
    const metrics = await scrape(port);

    daemon.child.kill('SIGTERM');
    const result = await daemon.exited;
    expect(result.code, result.stderr).toBe(0);

    // Row for row: every sample produced is stored with as many rows, nothing else is stored.
    const batches = await batchesIn(output);
    const produced = producedSamples(batches);
    const stored = await storedSamples(datastore.directUrl(), OUTAGE_PROBES, DATABASE_SCOPED);
    const diff = sampleDifferences(produced, stored);
    expect(diff).toEqual({ missing: [], extra: [], miscounted: [] });
    for (const probe of OUTAGE_PROBES) {
      expect(await duplicateRows(datastore.directUrl(), probe), probe).toBe(0);
    }
    // Samples taken while the datastore was down are among them: the outage was real.
    const collectedInOutage = batches
      .flatMap((b) => b.probes)
      .filter((s) => s.probe === 'pg_connectivity')
      .filter((s) => Date.parse(s.collectedAt) > downAt && Date.parse(s.collectedAt) < upAt);
    expect(collectedInOutage.length).toBeGreaterThanOrEqual(
      Math.floor(outage / 1000 / INTERVAL_S) - 2,
    );
    // Every batch once in the ingest ledger, and none the collector did not produce.
    const ids = batches.map((b) => pendingFromBatch(b)?.id).filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    const ledger = await queryOnce<{ batch_id: string }>(
      datastore.directUrl(),
      'SELECT batch_id FROM public.ingested_batches',
    );
    expect(ledger.map((r) => r.batch_id).sort()).toEqual([...ids].sort());

    const producedRows = [...produced.values()].reduce((a, b) => a + b, 0);
    const stopped = stopLog(daemon);
    await annotate(
      JSON.stringify({
        outageS: outage / 1000,
        batches: batches.length,
        batchesInOutage,
        producedRows,
        samplesInOutage: collectedInOutage.length,
        reconnectMs,
        datastore: stopped.datastore,
      }),
    );
    expect(stopped.datastore).toMatchObject({
      rowsWritten: producedRows,
      droppedRows: 0,
      bufferedRows: 0,
      rejectedRows: 0,
      duplicateBatches: 0,
    });
    expect(stopped.datastore?.failedWrites).toBeGreaterThan(0);
    // /metrics told the same story while it ran: failures counted, nothing dropped.
    expect(total(metrics, 'pgquerylens_datastore_write_failures_total')).toBe(
      stopped.datastore?.failedWrites,
    );
    expect(total(metrics, 'pgquerylens_datastore_rows_total', { outcome: 'dropped' })).toBe(0);
    expect(
      total(metrics, 'pgquerylens_datastore_rows_total', { outcome: 'written' }),
    ).toBeLessThanOrEqual(producedRows);
    // No lane dropped or held anything: NRI, OTLP, JSON and the datastore all got every batch.
    const lanes = stopped.export ?? {};
    expect(Object.keys(lanes).sort()).toEqual(['datastore', 'json', 'nri', 'otlp']);
    for (const [name, lane] of Object.entries(lanes)) {
      expect({ name, dropped: lane.dropped, queued: lane.queued }).toEqual({
        name,
        dropped: 0,
        queued: 0,
      });
      expect(lane.exported, name).toBe(batches.length);
    }
    expect(maxQueue).toBeLessThanOrEqual(QUEUE_SIZE);
    expect(total(metrics, 'pgquerylens_export_batches_total', { outcome: 'dropped' })).toBe(0);
    expect(total(metrics, 'pgquerylens_export_records_total', { outcome: 'dropped' })).toBe(0);
    // The OTLP side never noticed: PostgreSQL metrics went on arriving.
    expect(otlpRequestsAtRestart).toBeGreaterThan(0);
    expect(receiver.requests.length).toBeGreaterThan(otlpRequestsAtRestart);
  }, 240_000);
});
