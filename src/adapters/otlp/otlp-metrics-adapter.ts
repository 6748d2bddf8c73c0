import type { OtlpSettings } from '../../core/config/otlp-settings.js';
import type { ExportAdapter } from '../../core/export-adapter.js';
import type { UnifiedMetrics } from '../../core/model/unified-metrics.js';
import type { AdapterHealth, SelfMetricPoint } from '../../core/self-telemetry.js';
import { counter } from '../../core/run-telemetry.js';
import type { Logger } from '../../core/logger.js';
import { redact } from '../../core/redact.js';
import { withTimeout } from '../../core/timeout.js';
import { identityKey } from './otlp-resource.js';
import { TargetMeter } from './target-meter.js';
import { TargetSnapshot } from '../../core/semantic-metrics/target-snapshot.js';

/** What the OTLP metrics adapter needs. */
export interface OtlpMetricsAdapterOptions {
  readonly settings: OtlpSettings;
  /** Scope version on every metric (the collector's version). */
  readonly version: string;
  /**
   * A reading (a probe's rows, a query-performance metric, a delta series, a whole target) not
   * refreshed for this long stops being exported. Default: five export intervals or five
   * minutes, whichever is longer, so a probe on a slower cadence is not dropped between runs.
   */
  readonly staleAfterMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
  /** Where an outage of the endpoint, and its end, are reported (once each). */
  readonly logger?: Logger;
}

interface TargetState {
  /** The target identity its resource was built from. */
  readonly identity: string;
  readonly snapshot: TargetSnapshot;
  readonly meter: TargetMeter;
}

/**
 * Exports the semantic metrics (`deriveMetricPoints`) over OTLP, gRPC or HTTP/protobuf, through
 * the OpenTelemetry metrics SDK. `export` only records the batch as the target's latest
 * snapshot; each target's PeriodicExportingMetricReader pushes on its own interval, retrying and
 * timing out inside the SDK, so a slow or absent endpoint never blocks or fails collection.
 */
export class OtlpMetricsAdapter implements ExportAdapter {
  readonly name = 'otlp';
  readonly #options: OtlpMetricsAdapterOptions;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #targets = new Map<string, TargetState>();
  #closed = false;
  #outage = false;
  /** Pushes and the data points they carried, by outcome, over the process's life. */
  readonly #pushes = { ok: 0, failed: 0, okPoints: 0, failedPoints: 0 };

  constructor(options: OtlpMetricsAdapterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#staleAfterMs =
      options.staleAfterMs ?? Math.max(5 * options.settings.exportIntervalMs, 300_000);
  }

  /** Records the batch as its target's latest readings; never sends anything itself. */
  async export(batch: UnifiedMetrics): Promise<void> {
    if (this.#closed) return;
    const now = this.#now();
    let state = this.#targets.get(batch.target.name);
    // The same name may now be another server (a stored connection edited): its resource, and
    // so its provider, must be new; the old series go with the old provider.
    if (state !== undefined && state.identity !== identityKey(batch.target)) {
      this.#targets.delete(batch.target.name);
      await state.meter.discard();
      state = undefined;
    }
    if (state === undefined) {
      const snapshot = new TargetSnapshot(this.#staleAfterMs);
      snapshot.update(batch, now);
      const meter = new TargetMeter(
        batch.target,
        this.#options.settings,
        snapshot,
        this.#options.version,
        this.#onResult,
      );
      state = { identity: identityKey(batch.target), snapshot, meter };
      this.#targets.set(batch.target.name, state);
    } else {
      state.snapshot.update(batch, now);
    }
    await state.meter.sync();
    await this.#expire(now, batch.target.name);
  }

  /** Logs the start and the end of an outage, not every failed export. */
  readonly #onResult = (ok: boolean, error: string | undefined, points: number): void => {
    if (ok) {
      this.#pushes.ok += 1;
      this.#pushes.okPoints += points;
    } else {
      this.#pushes.failed += 1;
      this.#pushes.failedPoints += points;
    }
    const logger = this.#options.logger;
    if (!ok && !this.#outage) {
      this.#outage = true;
      logger?.warn('OTLP metric export failed; the latest readings are sent when it is back', {
        endpoint: redact(this.#options.settings.endpoint),
        err: redact(error ?? 'export failed'),
      });
    } else if (ok && this.#outage) {
      this.#outage = false;
      logger?.info('OTLP metric export recovered');
    }
  };

  /**
   * What reached the endpoint and what did not. `export` only records readings, so the export
   * lane counts every batch as exported; an outage shows here. A failed push loses nothing
   * for good (the next one carries the same cumulative series), which is why these are points
   * sent, not points lost.
   */
  selfMetrics(): SelfMetricPoint[] {
    const p = this.#pushes;
    const pushes = (outcome: string, n: number): SelfMetricPoint =>
      counter('pgquerylens.export.metric_pushes', 'OTLP metric pushes by outcome', '{push}', n, {
        adapter: this.name,
        outcome,
      });
    const points = (outcome: string, n: number): SelfMetricPoint =>
      counter(
        'pgquerylens.export.metric_points',
        'Data points in OTLP metric pushes, by outcome',
        '{point}',
        n,
        { adapter: this.name, outcome },
      );
    return [
      pushes('exported', p.ok),
      pushes('failed', p.failed),
      points('exported', p.okPoints),
      points('failed', p.failedPoints),
    ];
  }

  /** Unreachable as soon as any target's latest export failed (they share one endpoint). */
  health(): AdapterHealth {
    let reachable: boolean | undefined;
    for (const { meter } of this.#targets.values()) {
      const h = meter.health;
      if (h.reachable === false) return h;
      if (h.reachable === true) reachable = true;
    }
    return { reachable };
  }

  /** Pushes every target's current readings now. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.#targets.values()].map((s) => this.#bounded(s.meter.forceFlush())));
  }

  /** Final push of every target, then releases the providers; bounded by the export timeout. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const states = [...this.#targets.values()];
    this.#targets.clear();
    await Promise.all(states.map((s) => this.#bounded(s.meter.shutdown())));
  }

  /** Targets not heard from (or only failing) for too long are retired without a last export. */
  async #expire(now: number, current: string): Promise<void> {
    for (const [name, state] of this.#targets) {
      if (name !== current && state.snapshot.expire(now)) await state.meter.sync();
      if (state.snapshot.empty) {
        this.#targets.delete(name);
        await state.meter.discard();
      }
    }
  }

  /** An unreachable endpoint must not hold a flush or the process's exit past the timeout. */
  async #bounded(work: Promise<void>): Promise<void> {
    // The SDK retries within its own timeout; a little slack lets that finish first.
    const timeoutMs = this.#options.settings.timeoutMs + 1_000;
    await withTimeout('OTLP export', timeoutMs, () => work).catch(() => undefined);
  }
}
