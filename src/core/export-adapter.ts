import type { UnifiedMetrics } from './model/unified-metrics.js';
import type { AdapterHealth, SelfMetricPoint } from './self-telemetry.js';

/**
 * A destination for batches (OTLP, NRI, datastore, JSON). The export manager owns retries,
 * timeouts and queueing; an adapter only has to try once and throw on failure.
 */
export interface ExportAdapter {
  /** Stable name used in logs, config and self-metrics. */
  readonly name: string;
  /** Sends one batch; throws to request a retry. Should stop promptly when `signal` aborts. */
  export(batch: UnifiedMetrics, signal: AbortSignal): Promise<void>;
  /** Pushes out anything the adapter buffered itself. */
  forceFlush(): Promise<void>;
  /** Releases resources; idempotent, called once after the final flush. */
  shutdown(): Promise<void>;
  /**
   * For an adapter whose `export` only buffers (OTLP, datastore): whether the real destination
   * took the last delivery. Without it, readiness goes by the export lane's outcome.
   */
  health?(): AdapterHealth;
  /** The adapter's own counters (records sent, dropped, queued), for self-telemetry. */
  selfMetrics?(): readonly SelfMetricPoint[];
}
