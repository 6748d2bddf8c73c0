import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { errorMessage } from './errors.js';
import type { ExportAdapter } from './export-adapter.js';
import { silentLogger, type Logger } from './logger.js';
import type { UnifiedMetrics } from './model/unified-metrics.js';
import { settlesWithin, sleep, withTimeout } from './timeout.js';

export interface ExportManagerOptions {
  /** Deadline of one `export` call, ms. */
  readonly exportTimeoutMs: number;
  /**
   * Batches held per adapter; the oldest is dropped (and counted) when full. A function is read
   * at every push, so the bound can follow the number of targets.
   */
  readonly queueSize: number | (() => number);
  /** Retries of one batch before it is dropped. */
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
  readonly logger?: Logger;
}

/** Counters of one adapter. */
export interface AdapterExportStats {
  exported: number;
  retried: number;
  dropped: number;
  failedAttempts: number;
  queued: number;
  /** Records (probe rows and query-performance records) in the batches exported and dropped. */
  exportedRows: number;
  droppedRows: number;
  /** How the latest delivery attempt ended; `none` before the first. */
  lastOutcome: 'none' | 'ok' | 'failed';
  /** Why the latest attempt failed, when it did. */
  lastError?: string;
}

/** Records in a batch: probe rows plus every query-performance record. */
export function batchRecordCount(batch: UnifiedMetrics): number {
  let rows = 0;
  for (const p of batch.probes) rows += p.rows.length;
  return (
    rows +
    batch.slowQueries.length +
    batch.waitEvents.length +
    batch.blockingSessions.length +
    batch.individualQueries.length +
    batch.executionPlans.length +
    batch.ashSamples.length +
    batch.planChanges.length +
    batch.activeSessions.length
  );
}

export const DEFAULT_EXPORT_OPTIONS: ExportManagerOptions = {
  exportTimeoutMs: 10_000,
  queueSize: 100,
  maxRetries: 5,
  backoff: { initialMs: 500, maxMs: 30_000 },
};

/**
 * One queue and one worker per adapter, so a slow or failing adapter only ever delays itself:
 * `publish` never waits, and each worker retries its own head-of-line batch with backoff.
 * The batch being delivered is held outside the queue, so overflow only ever drops batches
 * that are still waiting, and every batch is counted exactly once: exported or dropped.
 */
class AdapterLane {
  readonly stats: AdapterExportStats = {
    exported: 0,
    retried: 0,
    dropped: 0,
    failedAttempts: 0,
    queued: 0,
    exportedRows: 0,
    droppedRows: 0,
    lastOutcome: 'none',
  };
  readonly #waiting: UnifiedMetrics[] = [];
  #inFlight: UnifiedMetrics | undefined;
  #wake: (() => void) | undefined;
  readonly #idleWaiters: (() => void)[] = [];
  readonly #stopping = new AbortController();
  readonly #worker: Promise<void>;

  constructor(
    readonly adapter: ExportAdapter,
    readonly options: ExportManagerOptions,
    readonly logger: Logger,
  ) {
    this.#worker = this.#run();
  }

  push(batch: UnifiedMetrics): void {
    if (this.#stopping.signal.aborted) {
      this.#drop(1, 'batch published after shutdown, dropped', batch);
      return;
    }
    const bound =
      typeof this.options.queueSize === 'number'
        ? this.options.queueSize
        : this.options.queueSize();
    if (this.#waiting.length >= bound) {
      const oldest = this.#waiting.shift();
      this.#drop(1, 'export queue full, dropped the oldest waiting batch', oldest);
    }
    this.#waiting.push(batch);
    this.#updateQueued();
    this.#wake?.();
  }

  /** Resolves true when nothing is waiting or in flight, false at the deadline. */
  async drain(deadlineMs: number): Promise<boolean> {
    if (this.#isIdle()) {
      return true;
    }
    const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    return settlesWithin(idle, deadlineMs);
  }

  /** Stops the worker (aborting a delivery in progress) and drops what is still waiting. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#wake?.();
    await this.#worker;
    const left = this.#waiting.splice(0);
    if (left.length > 0) {
      this.#drop(left.length, 'batches still queued at shutdown were dropped', ...left);
    }
    this.#updateQueued();
  }

  #isIdle(): boolean {
    return this.#waiting.length === 0 && this.#inFlight === undefined;
  }

  #updateQueued(): void {
    this.stats.queued = this.#waiting.length + (this.#inFlight === undefined ? 0 : 1);
  }

  #drop(count: number, message: string, ...batches: (UnifiedMetrics | undefined)[]): void {
    this.stats.dropped += count;
    for (const b of batches) if (b !== undefined) this.stats.droppedRows += batchRecordCount(b);
    this.logger.warn(message, { adapter: this.adapter.name, count });
  }

  async #run(): Promise<void> {
    const stop = this.#stopping.signal;
    while (!stop.aborted) {
      const batch = this.#waiting.shift();
      if (batch === undefined) {
        for (const resolve of this.#idleWaiters.splice(0)) resolve();
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.#inFlight = batch;
      this.#updateQueued();
      await this.#deliver(batch, stop);
      this.#inFlight = undefined;
      this.#updateQueued();
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #deliver(batch: UnifiedMetrics, stop: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await withTimeout(
          `export to ${this.adapter.name}`,
          this.options.exportTimeoutMs,
          (signal) => this.adapter.export(batch, signal),
          stop,
        );
        this.stats.exported += 1;
        this.stats.exportedRows += batchRecordCount(batch);
        this.stats.lastOutcome = 'ok';
        delete this.stats.lastError;
        return;
      } catch (err) {
        this.stats.failedAttempts += 1;
        this.stats.lastOutcome = 'failed';
        this.stats.lastError = errorMessage(err);
        if (attempt > this.options.maxRetries || stop.aborted) {
          this.stats.dropped += 1;
          this.stats.droppedRows += batchRecordCount(batch);
          this.logger.error('export failed, batch dropped', {
            adapter: this.adapter.name,
            target: batch.target.name,
            attempts: attempt,
            err: errorMessage(err),
          });
          return;
        }
        const delayMs = backoffDelayMs(this.options.backoff, attempt);
        this.stats.retried += 1;
        this.logger.warn('export failed, will retry', {
          adapter: this.adapter.name,
          target: batch.target.name,
          attempt,
          retryInMs: delayMs,
          err: errorMessage(err),
        });
        await sleep(delayMs, stop);
        if (stop.aborted) {
          this.#drop(1, 'shutdown while waiting to retry, batch dropped', batch);
          return;
        }
      }
    }
  }
}

/** Fans every batch out to all adapters in parallel; see AdapterLane for the isolation. */
export class ExportManager {
  readonly #lanes: AdapterLane[];
  readonly #logger: Logger;
  #shutDown = false;

  constructor(adapters: readonly ExportAdapter[], options: Partial<ExportManagerOptions> = {}) {
    const merged = { ...DEFAULT_EXPORT_OPTIONS, ...options };
    this.#logger = merged.logger ?? silentLogger;
    this.#lanes = adapters.map((a) => new AdapterLane(a, merged, this.#logger));
  }

  /** Adapter names, in order. */
  get adapterNames(): string[] {
    return this.#lanes.map((l) => l.adapter.name);
  }

  /** Queues a batch for every adapter; never blocks. */
  publish(batch: UnifiedMetrics): void {
    for (const lane of this.#lanes) {
      lane.push(batch);
    }
  }

  /** Counters per adapter name. */
  stats(): Record<string, AdapterExportStats> {
    return Object.fromEntries(this.#lanes.map((l) => [l.adapter.name, { ...l.stats }]));
  }

  /** Waits until every queue is empty or `deadlineMs` passes; true if all drained. */
  async drain(deadlineMs: number): Promise<boolean> {
    const results = await Promise.all(this.#lanes.map((l) => l.drain(deadlineMs)));
    return results.every(Boolean);
  }

  /**
   * Drains what it can within the deadline, then flushes and shuts every adapter down. What is
   * still queued at the deadline is counted as dropped and logged.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    if (this.#shutDown) {
      return;
    }
    this.#shutDown = true;
    const started = Date.now();
    await this.drain(deadlineMs);
    await Promise.all(this.#lanes.map((l) => l.stop()));
    const remaining = (): number => Math.max(100, deadlineMs - (Date.now() - started));
    await Promise.all(
      this.#lanes.map(async (lane) => {
        for (const step of ['forceFlush', 'shutdown'] as const) {
          try {
            await withTimeout(`${step} of ${lane.adapter.name}`, remaining(), () =>
              lane.adapter[step](),
            );
          } catch (err) {
            this.#logger.error(`adapter ${step} failed`, {
              adapter: lane.adapter.name,
              err: errorMessage(err),
            });
          }
        }
      }),
    );
  }
}
