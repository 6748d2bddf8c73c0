import type { Context } from '@opentelemetry/api';
import { SeverityNumber, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
  type SdkLogRecord,
} from '@opentelemetry/sdk-logs';
import type { OtlpLogsSettings } from '../../core/config/otlp-logs-settings.js';
import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import { errorMessage } from '../../core/errors.js';
import type { ExportAdapter } from '../../core/export-adapter.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import { redact } from '../../core/redact.js';
import { counter, gauge } from '../../core/run-telemetry.js';
import type { AdapterHealth, SelfMetricPoint } from '../../core/self-telemetry.js';
import { withTimeout } from '../../core/timeout.js';
import { eventRecords } from './event-records.js';
import { createLogExporter, type LogExporterTransport } from './otlp-log-exporter.js';
import { identityKey, targetResourceAttributes } from './otlp-resource.js';

/** How long the batch processor gathers records before it sends them. */
const BATCH_DELAY_MS = 1_000;
/** Instrumentation scope of every record, as for the metrics. */
const SCOPE = 'pgquerylens';

/** What the OTLP logs adapter needs. */
export interface OtlpLogsAdapterOptions {
  readonly settings: OtlpLogsSettings;
  /** The metrics' settings: service name and resource attributes, so logs and metrics correlate. */
  readonly metrics: OtlpSettings;
  /** Scope version on every record (the collector's version). */
  readonly version: string;
  readonly logger?: Logger;
  /** TLS credentials or agent options for the exporters (see otlp-log-exporter.ts). */
  readonly transport?: LogExporterTransport;
  /** A target not seen for this long has its provider flushed and released. Default 5 min. */
  readonly staleAfterMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Records per outcome, all targets together. */
interface Tally {
  /** Handed to the SDK by `export`, dropped ones included. */
  emitted: number;
  exported: number;
  failed: number;
  dropped: number;
  /** Emitted and not yet settled (queued or in flight). */
  pending: number;
}

/** One target's provider and its own queue count (each target has its own queue). */
interface TargetLogs {
  /** The target identity its resource was built from. */
  readonly identity: string;
  readonly provider: LoggerProvider;
  readonly logger: OtelLogger;
  readonly queue: { pending: number };
  lastSeenMs: number;
}

const STALE_AFTER_MS = 300_000;

/**
 * Sends the query-performance events (`eventRecords`) as OTLP log records through the
 * OpenTelemetry logs SDK. `export` only hands records to each target's BatchLogRecordProcessor,
 * which sends them in the background, so a slow or absent endpoint never blocks collection; what
 * the queue cannot hold is dropped and counted. One LoggerProvider per monitored server, whose
 * Resource is the same as the metrics', so both signals of a server correlate.
 */
export class OtlpLogsAdapter implements ExportAdapter {
  readonly name = 'otlp-logs';
  readonly #options: OtlpLogsAdapterOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #targets = new Map<string, TargetLogs>();
  readonly #retiring = new Set<Promise<void>>();
  readonly #tally: Tally = { emitted: 0, exported: 0, failed: 0, dropped: 0, pending: 0 };
  #reachable: boolean | undefined;
  #failedAt = 0;
  #detail: string | undefined;
  #closed = false;

  constructor(options: OtlpLogsAdapterOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ adapter: 'otlp-logs' });
    this.#now = options.now ?? Date.now;
    this.#staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  }

  /** Emits the batch's events into its target's queue; never waits for the network. */
  export(batch: UnifiedMetrics): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const now = this.#now();
    const records = eventRecords(batch, this.#options.settings.events, {
      maxValueLength: this.#options.settings.attributeValueLengthLimit,
    });
    let state = this.#targets.get(batch.target.name);
    // The same name may now be another server (a stored connection edited): new resource.
    const identity = identityKey(batch.target);
    if (state !== undefined && state.identity !== identity) {
      this.#retire(batch.target.name, state);
      state = undefined;
    }
    // Batches without events keep a known target alive but never start a provider.
    if (state === undefined && records.length > 0) {
      state = this.#build(batch);
      this.#targets.set(batch.target.name, state);
    }
    if (state !== undefined) {
      state.lastSeenMs = now;
      for (const r of records) {
        state.logger.emit({
          eventName: r.eventName,
          timestamp: r.timestampMs,
          severityNumber: r.severity === 'WARN' ? SeverityNumber.WARN : SeverityNumber.INFO,
          severityText: r.severity,
          body: r.body,
          attributes: r.attributes,
        });
      }
    }
    this.#expire(now);
    return Promise.resolve();
  }

  /** Sends every target's queued records now; bounded by the export timeout. */
  async forceFlush(): Promise<void> {
    await Promise.all(
      [...this.#targets.values()].map((t) => this.#bounded(t.provider.forceFlush())),
    );
  }

  /** Flushes what is queued, then releases the providers; bounded by the export timeout. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const states = [...this.#targets.values()];
    this.#targets.clear();
    await Promise.all([
      ...states.map((t) => this.#bounded(t.provider.shutdown())),
      ...this.#retiring,
    ]);
  }

  /** Whether the endpoint took the last export. */
  health(): AdapterHealth {
    // Events come only with activity: after an outage, a quiet server sends nothing that could
    // prove the endpoint back. Once nothing is pending and the failure is old, say "unknown".
    const settleMs = 2 * (BATCH_DELAY_MS + this.#options.settings.timeoutMs);
    if (
      this.#reachable === false &&
      this.#tally.pending === 0 &&
      this.#now() - this.#failedAt > settleMs
    ) {
      return { reachable: undefined };
    }
    return {
      reachable: this.#reachable,
      ...(this.#detail === undefined ? {} : { detail: this.#detail }),
    };
  }

  selfMetrics(): SelfMetricPoint[] {
    const t = this.#tally;
    const records = (outcome: string, n: number): SelfMetricPoint =>
      counter('pgquerylens.export.log_records', 'Event log records by outcome', '{record}', n, {
        adapter: this.name,
        outcome,
      });
    return [
      records('emitted', t.emitted),
      records('exported', t.exported),
      records('failed', t.failed),
      records('dropped', t.dropped),
      gauge(
        // Not export.queue.depth: the lanes report that one, in batches.
        'pgquerylens.export.log_records.queued',
        'Records waiting to be exported or in flight',
        '{record}',
        t.pending,
        { adapter: this.name },
      ),
    ];
  }

  #build(batch: UnifiedMetrics): TargetLogs {
    const { settings, metrics, version, transport } = this.#options;
    const queue = { pending: 0 };
    const exporter = new SettlingExporter(
      createLogExporter(settings, transport),
      settings.timeoutMs + 1_000,
      (n, result) => this.#settled(queue, n, result),
    );
    const batching = new BatchLogRecordProcessor({
      exporter,
      maxQueueSize: settings.maxQueueSize,
      maxExportBatchSize: settings.maxExportBatchSize,
      scheduledDelayMillis: BATCH_DELAY_MS,
      exportTimeoutMillis: settings.timeoutMs,
    });
    const processor = new CountingProcessor(batching, () => this.#admit(queue));
    const provider = new LoggerProvider({
      resource: resourceFromAttributes(targetResourceAttributes(batch.target, metrics)),
      processors: [processor],
      logRecordLimits: { attributeValueLengthLimit: settings.attributeValueLengthLimit },
    });
    return {
      identity: identityKey(batch.target),
      provider,
      logger: provider.getLogger(SCOPE, version),
      queue,
      lastSeenMs: 0,
    };
  }

  /**
   * Whether a new record fits its target's queue. The SDK drops silently beyond maxQueueSize;
   * counting queued plus in-flight records here keeps the SDK's queue below that, so every
   * drop happens (and is counted) here.
   */
  #admit(queue: { pending: number }): boolean {
    this.#tally.emitted += 1;
    // One bound for the whole process, not per target: memory during an outage must not
    // grow with the size of the fleet.
    if (this.#tally.pending >= this.#options.settings.maxQueueSize) {
      this.#tally.dropped += 1;
      return false;
    }
    queue.pending += 1;
    this.#tally.pending += 1;
    return true;
  }

  #settled(queue: { pending: number }, n: number, result: ExportResult): void {
    queue.pending -= n;
    this.#tally.pending -= n;
    const ok = result.code === ExportResultCode.SUCCESS;
    if (ok) this.#tally.exported += n;
    else this.#tally.failed += n;
    if (ok && this.#reachable !== true) {
      if (this.#reachable === false) this.#logger.info('OTLP log export recovered');
      this.#detail = undefined;
    } else if (!ok) {
      const detail = redact(
        result.error === undefined ? 'export failed' : errorMessage(result.error),
      );
      // Once per outage, not once per batch.
      if (this.#reachable !== false) {
        this.#logger.warn('OTLP log export failed', { error: detail, records: n });
      }
      this.#detail = detail;
      this.#failedAt = this.#now();
    }
    this.#reachable = ok;
  }

  /** Targets not heard from for too long: flush what they queued, then release them. */
  #expire(now: number): void {
    for (const [name, state] of this.#targets) {
      if (now - state.lastSeenMs <= this.#staleAfterMs) continue;
      this.#retire(name, state);
    }
  }

  /** Flushes a target's queued records in the background, then releases its provider. */
  #retire(name: string, state: TargetLogs): void {
    this.#targets.delete(name);
    const done = this.#bounded(state.provider.shutdown()).finally(() =>
      this.#retiring.delete(done),
    );
    this.#retiring.add(done);
  }

  /** An unreachable endpoint must not hold a flush or the process's exit past the timeout. */
  async #bounded(work: Promise<void>): Promise<void> {
    // The SDK retries within its own timeout; a little slack lets that finish first.
    const timeoutMs = this.#options.settings.timeoutMs + 1_000;
    await withTimeout('OTLP log export', timeoutMs, () => work).catch(() => undefined);
  }
}

/** Admits records into the batching processor only while `admit` says they fit. */
class CountingProcessor implements LogRecordProcessor {
  #shut = false;

  constructor(
    private readonly inner: LogRecordProcessor,
    private readonly admit: () => boolean,
  ) {}

  onEmit(record: SdkLogRecord, context?: Context): void {
    // A record emitted into a closing provider would be dropped by the SDK, uncounted.
    if (this.#shut) return;
    if (this.admit()) this.inner.onEmit(record, context);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.#shut = true;
    return this.inner.shutdown();
  }
}

/**
 * Reports every export's outcome exactly once, even when the underlying exporter never calls
 * back (the processor gives up at its timeout and would leave the records counted as pending).
 */
class SettlingExporter implements LogRecordExporter {
  constructor(
    private readonly inner: LogRecordExporter,
    private readonly deadlineMs: number,
    private readonly onSettled: (records: number, result: ExportResult) => void,
  ) {}

  export(logs: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    let settled = false;
    const settle = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.onSettled(logs.length, result);
      done(result);
    };
    const timer = setTimeout(
      () => settle({ code: ExportResultCode.FAILED, error: new Error('export timed out') }),
      this.deadlineMs,
    );
    timer.unref();
    try {
      this.inner.export(logs, settle);
    } catch (err) {
      settle({
        code: ExportResultCode.FAILED,
        error: err instanceof Error ? err : new Error(String(err)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
