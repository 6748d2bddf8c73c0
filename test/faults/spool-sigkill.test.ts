import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { pendingFromBatch, type PendingBatch } from '../../src/adapters/datastore/pending-batch.js';
import { queryOnce } from '../helpers/fresh-database.js';
import {
  killDaemons,
  pollUntil,
  startDaemon,
  stopLog,
  writeConfig,
  type Daemon,
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
import { readSpool, spoolFiles } from './support/outage-spool.js';

/**
 * Issue 8: the collector killed with SIGKILL while the datastore is down. What it had spooled
 * (`datastore.spoolDir`) is on disk; a new process on the same spool, with the datastore back,
 * must replay it, so every batch collected before the kill is stored, exactly once.
 */

const pgUrl = inject('pgUrl');
const INTERVAL_S = 2;
/** Batches spooled before the kill. */
const SPOOLED = 8;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killDaemons();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function ledger(url: string): Promise<string[]> {
  try {
    return (
      await queryOnce<{ batch_id: string }>(url, 'SELECT batch_id FROM public.ingested_batches')
    ).map((r) => r.batch_id);
  } catch {
    return [];
  }
}

/** Pending batches (the datastore's view) of a JSON-lines output file, in production order. */
async function pendingIn(file: string): Promise<PendingBatch[]> {
  return (await batchesIn(file))
    .map((b) => pendingFromBatch(b))
    .filter((b): b is PendingBatch => b !== undefined);
}

describe('SIGKILL while the datastore is down, with a spool', () => {
  it('replays the spool after restart: every batch collected before the kill is stored once', async ({
    annotate,
  }) => {
    // Must hold: the spool on disk after the kill is what the next process replays (its log
    // says so); afterwards the ledger holds every batch of the first process that was spooled
    // or stored (only a batch still in memory at the kill, the very last one, may be lost),
    // every batch of the second, nothing else; stored samples equal those batches' samples
    // row for row, none twice; the spool ends empty; nothing dropped.
    const dir = await outageWorkDir('pgql-fault-spool-');
    cleanups.push(() => removeDir(dir));
    const datastore = await RestartableDatastore.start(path.join(dir, 'store'));
    cleanups.push(() => datastore.close());
    const spoolDir = path.join(dir, 'spool');
    const configFor = (output: string): Promise<string> =>
      writeConfig(path.dirname(output), {
        mode: 'otel',
        interval: `${INTERVAL_S}s`,
        targets: [{ name: 'fault-spool', url: pgUrl, databases: ['postgres'] }],
        collectors: outageCollectors(),
        otlp: { enabled: false },
        output: { format: 'json', path: output },
        datastore: { url: datastore.collectorUrl(), spoolDir },
        log: { level: 'info' },
      });
    const firstOutput = path.join(dir, 'first', 'batches.ndjson');
    const secondOutput = path.join(dir, 'second', 'batches.ndjson');
    await mkdir(path.dirname(firstOutput));
    await mkdir(path.dirname(secondOutput));

    const first: Daemon = startDaemon(await configFor(firstOutput));
    await pollUntil(
      'batches stored before the outage',
      async () => (await ledger(datastore.directUrl())).length >= 2,
      60_000,
      () => first.stderr(),
    );

    await datastore.stop();
    await pollUntil(
      `${SPOOLED} batches spooled`,
      async () => (await spoolFiles(spoolDir)).length >= SPOOLED,
      120_000,
      () => first.stderr(),
    );
    // Killed at an arbitrary point of a cycle, not at a quiet moment.
    const lines = (await batchesIn(firstOutput)).length;
    await pollUntil(
      'the next cycle',
      async () => (await batchesIn(firstOutput)).length > lines,
      30_000,
    );
    const killDelayMs = Math.floor(Math.random() * INTERVAL_S * 1000);
    await new Promise((r) => setTimeout(r, killDelayMs));
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(killed.stderr).toContain('datastore unavailable; buffering and retrying');
    expect(killed.stderr).not.toContain('"msg":"stopped"');

    // What the kill left on disk, read before anything replays it.
    const spooled = await readSpool(spoolDir);
    expect(spooled.length).toBeGreaterThanOrEqual(SPOOLED);
    const spooledRows = spooled.reduce((n, s) => n + s.batch.rows, 0);
    const firstBatches = await pendingIn(firstOutput);

    await datastore.restart();
    const second = startDaemon(await configFor(secondOutput));
    const secondStarted = Date.now();
    await pollUntil(
      'the spool replayed and new cycles stored',
      async () => {
        const left = await spoolFiles(spoolDir);
        const ids = new Set(await ledger(datastore.directUrl()));
        const fresh = await pendingIn(secondOutput);
        return (
          spooled.every((s) => !left.includes(s.file) && ids.has(s.batch.id)) &&
          fresh.length >= 2 &&
          fresh.every((b) => ids.has(b.id))
        );
      },
      90_000,
      () => second.stderr(),
    );
    second.child.kill('SIGTERM');
    const result = await second.exited;
    expect(result.code, result.stderr).toBe(0);
    const replay = second.logs().find((r) => r.msg?.startsWith('datastore spool has batches'));
    expect(replay).toMatchObject({ batches: spooled.length, rows: spooledRows });

    const stored = new Set(await ledger(datastore.directUrl()));
    // Only the newest batch of the first process, in memory when it died, may be missing.
    const lost = firstBatches.filter((b) => !stored.has(b.id));
    const detail = `kill ${killDelayMs} ms into a cycle; lost ${lost.length} of ${firstBatches.length}`;
    await annotate(
      `${detail} batches of the first process; ${spooled.length} batches (${spooledRows} rows) replayed`,
    );
    expect(lost.length, detail).toBeLessThanOrEqual(1);
    if (lost.length === 1) {
      expect(lost[0], detail).toBe(firstBatches[firstBatches.length - 1]);
      expect(spooled.map((s) => s.batch.id)).not.toContain(lost[0]?.id);
    }
    const secondBatches = await pendingIn(secondOutput);
    const expected = new Map<string, PendingBatch>();
    for (const b of [
      ...firstBatches.filter((b) => !lost.includes(b)),
      ...spooled.map((s) => s.batch),
      ...secondBatches,
    ]) {
      expected.set(b.id, b);
    }
    expect([...stored].sort()).toEqual([...expected.keys()].sort());

    // Row for row, once each.
    const produced = producedSamples([...expected.values()]);
    const storedRows = await storedSamples(datastore.directUrl(), OUTAGE_PROBES, DATABASE_SCOPED);
    expect(sampleDifferences(produced, storedRows)).toEqual({
      missing: [],
      extra: [],
      miscounted: [],
    });
    for (const probe of OUTAGE_PROBES) {
      expect(await duplicateRows(datastore.directUrl(), probe), probe).toBe(0);
    }

    const stopped = stopLog(second);
    expect(stopped.datastore).toMatchObject({ droppedRows: 0, bufferedRows: 0, rejectedRows: 0 });
    expect(await spoolFiles(spoolDir)).toEqual([]);
    expect(Date.now() - secondStarted).toBeLessThan(90_000);
  }, 180_000);
});
