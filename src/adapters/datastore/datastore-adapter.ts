import type pg from 'pg';
import { backoffDelayMs } from '../../core/backoff.js';
import { errorMessage } from '../../core/errors.js';
import type { ExportAdapter } from '../../core/export-adapter.js';
import type { Logger } from '../../core/logger.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { redact } from '../../core/redact.js';
import { counter, gauge } from '../../core/run-telemetry.js';
import type { AdapterHealth, SelfMetricPoint } from '../../core/self-telemetry.js';
import { sleep } from '../../core/timeout.js';
import type { BatchBuffer } from './batch-buffer.js';
import { DatastoreWriter } from './datastore-writer.js';
import { prepareDatastore } from './prepare-datastore.js';
import { pendingFromBatch, type PendingBatch } from './pending-batch.js';

export interface DatastoreAdapterOptions {
  readonly pool: pg.Pool;
  readonly schemas: readonly ProbeSchema[];
  readonly buffer: BatchBuffer;
  readonly logger: Logger;
  /** Owner of connections registered for configuration-file targets. */
  readonly owner: string;
  /** Wait this long after a batch arrives so batches of several targets share one COPY, ms. */
  readonly batchingDelayMs?: number;
  /** Rows per write transaction. */
  readonly maxRowsPerWrite?: number;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** How long shutdown keeps writing what is buffered, ms (default 10 s). */
  readonly shutdownDrainMs?: number;
  /** Hook run after the schema is ready (partition pre-creation, GC scheduling). */
  readonly onReady?: (writer: DatastoreWriter) => Promise<void>;
}

/** Counters of the datastore adapter, for logs and self-metrics. */
export interface DatastoreStats {
  rowsWritten: number;
  batchesWritten: number;
  duplicateBatches: number;
  unchangedSamples: number;
  coercedValues: number;
  unknownSamples: number;
  failedWrites: number;
  /** Rows the datastore refused as data (not an outage), dropped after isolating their batch. */
  rejectedRows: number;
  readonly bufferedRows: number;
  readonly droppedRows: number;
}

/**
 * Stores probe rows as history. `export` only appends to the buffer (memory, or a spool on
 * disk), so the export manager never waits on the datastore; a writer loop drains the buffer
 * with COPY, retrying with backoff for as long as the datastore is down.
 */
export class DatastoreAdapter implements ExportAdapter {
  readonly name = 'datastore';
  readonly #opts: DatastoreAdapterOptions;
  readonly #writer: DatastoreWriter;
  readonly #counters = {
    rowsWritten: 0,
    batchesWritten: 0,
    duplicateBatches: 0,
    unchangedSamples: 0,
    coercedValues: 0,
    unknownSamples: 0,
    failedWrites: 0,
    rejectedRows: 0,
  };
  #ready = false;
  #isolating = false;
  #dropping = false;
  #flushing = 0;
  #stopping = false;
  #failing = false;
  /** Why the latest write failed, redacted; set while failing. */
  #failure: string | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #idle = new Set<() => void>();
  #stopController = new AbortController();

  constructor(options: DatastoreAdapterOptions) {
    this.#opts = options;
    this.#writer = new DatastoreWriter({
      pool: options.pool,
      schemas: options.schemas,
      owner: options.owner,
    });
  }

  get stats(): DatastoreStats {
    return {
      ...this.#counters,
      bufferedRows: this.#opts.buffer.rows,
      droppedRows: this.#opts.buffer.droppedRows,
    };
  }

  /**
   * Rows by fate, and the buffer. `export` only buffers, so the export lane counts a batch as
   * exported when it is queued here; whether its rows reached the datastore shows here.
   */
  selfMetrics(): SelfMetricPoint[] {
    const s = this.stats;
    const rows = (outcome: string, n: number): SelfMetricPoint =>
      counter('pgquerylens.datastore.rows', 'Probe rows by outcome', '{row}', n, {
        adapter: this.name,
        outcome,
      });
    return [
      rows('written', s.rowsWritten),
      rows('dropped', s.droppedRows),
      rows('rejected', s.rejectedRows),
      gauge(
        'pgquerylens.datastore.rows.buffered',
        'Rows waiting for the datastore (memory or spool)',
        '{row}',
        s.bufferedRows,
        { adapter: this.name },
      ),
      counter(
        'pgquerylens.datastore.write_failures',
        'Writes the datastore refused or never answered; each is retried',
        '{write}',
        s.failedWrites,
        { adapter: this.name },
      ),
    ];
  }

  /**
   * Down while writes fail: `export` only buffers, so the export lane never sees the outage and
   * readiness must hear it from here.
   */
  health(): AdapterHealth {
    if (this.#failing) {
      return {
        reachable: false,
        ...(this.#failure === undefined ? {} : { detail: this.#failure }),
      };
    }
    return { reachable: this.#ready ? true : undefined };
  }

  /** Whether migrations and tables are in place (the datastore was reached at least once). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Starts the writer loop; the first thing it does is migrate and create tables. */
  start(): void {
    this.#loop ??= this.#run();
  }

  async export(batch: UnifiedMetrics): Promise<void> {
    const pending = pendingFromBatch(batch);
    if (pending === undefined) return;
    const droppedBefore = this.#opts.buffer.droppedRows;
    await this.#opts.buffer.append(pending);
    const dropped = this.#opts.buffer.droppedRows - droppedBefore;
    // Said once per outage, when dropping starts; the count is in the stats and the stop log.
    if (dropped > 0 && !this.#dropping) {
      this.#dropping = true;
      this.#opts.logger.warn('datastore buffer full, dropping the oldest rows until it drains', {
        droppedRows: dropped,
        droppedTotal: this.#opts.buffer.droppedRows,
      });
    }
    this.start();
    this.#wake?.();
  }

  /** Waits until the buffer is empty, or the datastore fails, or `timeoutMs` passes. */
  async forceFlush(timeoutMs = 10_000): Promise<void> {
    if (this.#opts.buffer.batches === 0 || this.#loop === undefined) return;
    const deadline = Date.now() + timeoutMs;
    this.#flushing++;
    try {
      await this.#flushUntil(deadline);
    } finally {
      this.#flushing--;
    }
  }

  async #flushUntil(deadline: number): Promise<void> {
    while (this.#opts.buffer.batches > 0 && Date.now() < deadline && !this.#failing) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#idle.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        this.#idle.add(done);
        this.#wake?.();
      });
    }
  }

  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopController.abort();
    this.#wake?.();
    await this.#loop;
    // Everything waiting gets one more chance, write after write, until the datastore fails or
    // the deadline passes: a datastore back just before the stop still receives it all.
    const deadline = Date.now() + (this.#opts.shutdownDrainMs ?? 10_000);
    while (this.#ready && this.#opts.buffer.batches > 0 && Date.now() < deadline) {
      try {
        await this.#drainOnce();
      } catch {
        break;
      }
    }
    const left = this.#opts.buffer.rows;
    if (left > 0) {
      this.#opts.logger.warn('datastore rows not written at shutdown', {
        rows: left,
        kept: this.#opts.buffer.durable ? 'in the spool, written after restart' : 'lost',
      });
    }
    await this.#opts.pool.end().catch(() => undefined);
  }

  async #run(): Promise<void> {
    let attempt = 0;
    const retry = this.#opts.retry ?? { initialMs: 1_000, maxMs: 30_000 };
    while (!this.#stopping) {
      try {
        if (!this.#ready) {
          await this.#prepare();
        } else if (this.#opts.buffer.batches === 0) {
          this.#notifyIdle();
          await this.#sleepUntilWoken();
          continue;
        } else {
          // Wait for other targets' batches to share the COPY, unless someone waits for a
          // flush or a backlog is already there.
          const backlog = this.#opts.buffer.rows >= (this.#opts.maxRowsPerWrite ?? 50_000);
          if (this.#flushing === 0 && !backlog) {
            await sleep(this.#opts.batchingDelayMs ?? 1_000, this.#stopController.signal).catch(
              () => undefined,
            );
          }
          if (this.#stopping) break;
          await this.#drainOnce();
        }
        attempt = 0;
        if (this.#failing) {
          this.#failing = false;
          this.#failure = undefined;
          this.#opts.logger.info('datastore reachable again', {
            bufferedRows: this.#opts.buffer.rows,
          });
        }
      } catch (err) {
        attempt++;
        this.#counters.failedWrites++;
        this.#failure = redact(errorMessage(err));
        if (!this.#failing) {
          this.#failing = true;
          // Logged on the change of state, not per attempt, so a long outage is one line.
          this.#opts.logger.error('datastore unavailable; buffering and retrying', {
            err: redact(errorMessage(err)),
            bufferedRows: this.#opts.buffer.rows,
          });
        }
        this.#notifyIdle();
        await sleep(backoffDelayMs(retry, attempt), this.#stopController.signal).catch(
          () => undefined,
        );
      }
    }
  }

  async #prepare(): Promise<void> {
    await prepareDatastore(this.#opts.pool, this.#opts.schemas, this.#opts.logger);
    await this.#opts.onReady?.(this.#writer);
    this.#ready = true;
  }

  async #drainOnce(): Promise<void> {
    // While isolating a bad batch, one batch per write; otherwise as many as fit.
    const batches = await this.#opts.buffer.oldest(
      this.#isolating ? 1 : (this.#opts.maxRowsPerWrite ?? 50_000),
    );
    if (batches.length === 0) return;
    let result;
    try {
      result = await this.#writer.write(batches);
    } catch (err) {
      const code = sqlState(err);
      if (code === '23514') {
        // "no partition for row": someone else's GC dropped a partition we thought existed.
        this.#writer.partitions.forgetAll();
      } else if (code === '42P01' || code === '42703') {
        // A table or column missing: the schema changed under us; create it again.
        this.#ready = false;
      } else if (code !== undefined && (code.startsWith('22') || code.startsWith('23'))) {
        // The data itself is refused. Retrying the same write would block everything behind
        // it forever: narrow it down to one batch, and set that one aside.
        if (batches.length > 1) this.#isolating = true;
        else await this.#reject(batches, err);
        return;
      }
      throw err;
    }
    this.#isolating = false;
    this.#dropping = false;
    await this.#opts.buffer.remove(batches.map((b) => b.id));
    this.#counters.rowsWritten += result.rows;
    this.#counters.batchesWritten += batches.length - result.duplicateBatches;
    this.#counters.duplicateBatches += result.duplicateBatches;
    this.#counters.unchangedSamples += result.unchangedSamples;
    this.#counters.coercedValues += result.coercedValues;
    this.#counters.unknownSamples += result.unknownSamples;
  }

  async #reject(batches: readonly PendingBatch[], err: unknown): Promise<void> {
    const rows = batches.reduce((n, b) => n + b.rows, 0);
    await this.#opts.buffer.remove(batches.map((b) => b.id));
    this.#counters.rejectedRows += rows;
    this.#opts.logger.error('datastore refused a batch; it is dropped and counted', {
      target: batches[0]?.target.name,
      rows,
      err: redact(errorMessage(err)),
    });
  }

  #sleepUntilWoken(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
      if (this.#stopping) this.#wake();
    });
  }

  #notifyIdle(): void {
    for (const done of [...this.#idle]) done();
  }
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
